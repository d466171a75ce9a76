package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/cohort-dev/cohort-operator/controllers"
)

// checkDefaults fails when a default of the chart disagrees with config/ or with the
// manager's flags: the image config/manager deploys (repository in values.yaml, tag
// as the chart's appVersion), the names of the approval policy and of the approvers'
// ClusterRole, which the manager's generated rules and flag defaults assume, and the
// name of the action-plan policy, as config/default names it.
func checkDefaults(configDir, chartDir string) error {
	var values struct {
		Image struct {
			Repository string `json:"repository"`
		} `json:"image"`
		Approvals struct {
			PolicyName          string `json:"policyName"`
			ApproverClusterRole string `json:"approverClusterRole"`
		} `json:"approvals"`
		ActionPlans struct {
			PolicyName string `json:"policyName"`
		} `json:"actionPlans"`
	}
	if err := readYAML(filepath.Join(chartDir, "values.yaml"), &values); err != nil {
		return err
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := readYAML(filepath.Join(chartDir, "Chart.yaml"), &chart); err != nil {
		return err
	}
	var kustomization struct {
		Images []struct {
			Name    string `json:"name"`
			NewName string `json:"newName"`
			NewTag  string `json:"newTag"`
		} `json:"images"`
	}
	if err := readYAML(filepath.Join(configDir, "manager", "kustomization.yaml"), &kustomization); err != nil {
		return err
	}
	var problems []string
	for _, img := range kustomization.Images {
		if img.Name != "controller" {
			continue
		}
		if values.Image.Repository != img.NewName {
			problems = append(problems, fmt.Sprintf("values.yaml image.repository is %q, config/manager deploys %q", values.Image.Repository, img.NewName))
		}
		if chart.AppVersion != img.NewTag {
			problems = append(problems, fmt.Sprintf("Chart.yaml appVersion is %q, config/manager deploys the tag %q", chart.AppVersion, img.NewTag))
		}
	}
	if values.Approvals.PolicyName != controllers.DefaultApprovalPolicy {
		problems = append(problems, fmt.Sprintf("values.yaml approvals.policyName is %q, the manager's default is %q", values.Approvals.PolicyName, controllers.DefaultApprovalPolicy))
	}
	if values.Approvals.ApproverClusterRole != controllers.DefaultApproverClusterRole {
		problems = append(problems, fmt.Sprintf("values.yaml approvals.approverClusterRole is %q, the manager's default is %q", values.Approvals.ApproverClusterRole, controllers.DefaultApproverClusterRole))
	}
	if values.ActionPlans.PolicyName != defaultActionPlanPolicy {
		problems = append(problems, fmt.Sprintf("values.yaml actionPlans.policyName is %q, config/default names the policy %q", values.ActionPlans.PolicyName, defaultActionPlanPolicy))
	}
	if len(problems) > 0 {
		return fmt.Errorf("the chart's defaults disagree with config/ and the manager:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// readYAML decodes a YAML file into out, ignoring fields out does not have.
func readYAML(path string, out any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
