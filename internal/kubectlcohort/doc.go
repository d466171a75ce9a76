// Package kubectlcohort is the kubectl plugin kubectl-cohort: roster, attendance,
// approve and status for learning cohorts.
//
// The package is split so that what it shows can be tested without a cluster: the
// Build* functions turn API objects (as read, status included) into views, and the
// views write themselves as human tables or as JSON and YAML. The thin client code in
// cli.go and client.go parses kubectl's flags, reads the objects with the caller's own
// credentials and, for approve, patches as the caller, so that RBAC and the API
// server's admission policy decide what they may see and do.
package kubectlcohort
