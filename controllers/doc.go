// Package controllers holds the program reconciler of the learning.cohort.dev API.
// It evaluates one program unit (a community with its cohorts, or a standalone cohort)
// per reconcile and writes each object's status at most once, only when it changed.
package controllers

// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
