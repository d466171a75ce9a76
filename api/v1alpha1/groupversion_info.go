// Package v1alpha1 contains the v1alpha1 API of the learning.cohort.dev group:
// CommunityOfPractice, Cohort, Membership, LearningEvent, ActionPlan and ProgramReport.
//
// +kubebuilder:object:generate=true
// +groupName=learning.cohort.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "learning.cohort.dev", Version: "v1alpha1"}

	// SchemeBuilder collects the functions that add this group's types to a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this group and version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&CommunityOfPractice{}, &CommunityOfPracticeList{},
		&Cohort{}, &CohortList{},
		&Membership{}, &MembershipList{},
		&LearningEvent{}, &LearningEventList{},
		&ActionPlan{}, &ActionPlanList{},
		&ProgramReport{}, &ProgramReportList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
