// Package controllers holds one reconciler per kind of the learning.cohort.dev API.
// Each reconciler observes its object and the objects it refers to, and writes the
// object's status at most once per reconcile.
package controllers

// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
