package kube

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// helmRecord is a release revision as helm v3 stores it: a Secret whose
// "release" is base64 of gzip of the release's JSON.
func helmRecord(t *testing.T, ns, release string, rev int, status, config string) *corev1.Secret {
	t.Helper()
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	fmt.Fprintf(w, `{"name":%q,"version":%d,"config":%s}`, release, rev, config)
	w.Close()
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sh.helm.release.v1.%s.v%d", release, rev), Namespace: ns,
			Labels: map[string]string{"owner": "helm", "name": release, "status": status}},
		Type: "helm.sh/release.v1",
		Data: map[string][]byte{"release": []byte(base64.StdEncoding.EncodeToString(z.Bytes()))},
	}
}

// The audit sees what an operator's helm left beside the parties: an init
// Job that has not completed, and a deployed release whose values still
// turn it on; not a Job that completed, a superseded revision that had it
// on, nor a release without.
func TestLeftoversAreTheInitJobAndAReleaseThatRunsItAgain(t *testing.T) {
	ctx := context.Background()
	ns := "kmschaos-ab12cd34"
	d, _ := fakeDriver(
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "kms-threshold-2-threshold-init", Namespace: ns}},
		&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "kms-threshold-3-threshold-init", Namespace: ns},
			Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}},
		helmRecord(t, ns, "kms-threshold-1", 3, "deployed", `{"config":"x"}`),
		helmRecord(t, ns, "kms-threshold-1", 2, "superseded", `{"kmsInit":{"enabled":true}}`),
		helmRecord(t, ns, "kms-threshold-2", 2, "deployed", `{"config":"x","kmsInit":{"enabled":true}}`),
	)
	got, err := d.Leftovers(ctx)
	want := []string{"job kms-threshold-2-threshold-init left, not complete", "release kms-threshold-2 has kmsInit.enabled=true (its next upgrade runs the init Job again)"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Leftovers: %q, %v; want %q", got, err, want)
	}

	clean, _ := fakeDriver(helmRecord(t, ns, "kms-threshold-1", 1, "deployed", `{"config":"x","kmsInit":{"enabled":false}}`))
	if got, err := clean.Leftovers(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Leftovers of a cluster as brought up: %q, %v", got, err)
	}
}

// The reset clears what the audit names, and only that: a Job that did
// not complete goes, a completed one stays.
func TestClearLeftoversDeletesTheJobsThatDidNotComplete(t *testing.T) {
	ctx := context.Background()
	ns := "kmschaos-ab12cd34"
	done := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "kms-threshold-3-threshold-init", Namespace: ns},
		Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
	d, cs := fakeDriver(&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "kms-threshold-2-threshold-init", Namespace: ns}}, done)
	got, err := d.ClearLeftovers(ctx)
	if err != nil || !slices.Equal(got, []string{"job kms-threshold-2-threshold-init left, not complete"}) {
		t.Fatalf("ClearLeftovers: %q, %v", got, err)
	}
	if left, err := d.Leftovers(ctx); err != nil || len(left) != 0 {
		t.Fatalf("Leftovers after ClearLeftovers: %q, %v", left, err)
	}
	if _, err := cs.BatchV1().Jobs(ns).Get(ctx, done.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("the completed Job was removed too: %v", err)
	}
}
