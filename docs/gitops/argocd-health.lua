-- Argo CD health check for the kinds of learning.cohort.dev: CommunityOfPractice, Cohort,
-- Membership and LearningEvent. It reads their status the way kstatus does, so Argo CD
-- and Flux agree on when a program object is done:
--
--   status.observedGeneration behind metadata.generation  -> Progressing (not evaluated yet)
--   Stalled=True                                          -> Degraded (a person must change something)
--   Ready=True                                            -> Healthy
--   Ready=False or Unknown, or no Ready yet               -> Progressing (waiting for another
--                                                            object, or a retry)
--
-- Program outcomes (a waitlist, an understaffed role, low attendance, an event awaiting
-- approval) are steady states reported by their own conditions with Ready=True: they do
-- not make an object unhealthy. Argo CD runs this script without Lua's string library,
-- so it uses only the base library.
--
-- Install it in argocd-cm as described in docs/gitops.md.

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason
end

local hs = {}
local generation = tonumber(obj.metadata.generation)
local observed = nil
if obj.status ~= nil then
  observed = tonumber(obj.status.observedGeneration)
end

if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to evaluate generation " .. tostring(generation)
  return hs
end

local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(reconciling)
  return hs
end

local ready = condition("Ready")
if ready == nil then
  hs.status = "Progressing"
  hs.message = "no Ready condition yet"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
else
  hs.status = "Progressing"
end
hs.message = describe(ready)
return hs
