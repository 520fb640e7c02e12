package kube

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kmschaos/kmschaos/cluster"
)

// What an operator's helm can leave beside the parties: the chart's PRSS
// init Job, a post-install/post-upgrade hook with no delete policy, stays
// after it ran (helm deletes it only before the next run): one that has
// not completed still acts (its init container waits on the cores with no
// bound, then runs kms-init) or retries; and a release deployed with --set
// kmsInit.enabled=true keeps that value, so that its next upgrade with
// --reuse-values runs the Job again. Neither touches a party, so a party's
// audit does not see them; a scenario that left one behind has a fault
// that outlives it. A Job that completed is the record the real chart
// leaves after every successful init: not a fault.

// Leftovers names every Job of the run's namespace that has not completed
// and every deployed release whose values turn the init Job on.
func (d *Driver) Leftovers(ctx context.Context) ([]string, error) {
	jobs, releases, err := d.leftovers(ctx)
	return describeLeftovers(jobs, releases), err
}

func describeLeftovers(jobs, releases []string) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, "job "+j+" left, not complete")
	}
	for _, r := range releases {
		out = append(out, "release "+r+" has kmsInit.enabled=true (its next upgrade runs the init Job again)")
	}
	return out
}

// ClearLeftovers deletes every Job that has not completed, with its pods,
// and turns kmsInit off in every release that has it on (helm upgrade
// --reuse-values, which leaves the StatefulSet, so no party restarts).
func (d *Driver) ClearLeftovers(ctx context.Context) ([]string, error) {
	jobs, releases, err := d.leftovers(ctx)
	if err != nil {
		return nil, err
	}
	background := metav1.DeletePropagationBackground
	for _, j := range jobs {
		if err := d.cs.BatchV1().Jobs(d.ns).Delete(ctx, j, metav1.DeleteOptions{PropagationPolicy: &background}); err != nil {
			return nil, d.explain(err, "deleting job "+j)
		}
	}
	for _, r := range releases {
		i, ok := cluster.ReleaseParty(r)
		if !ok {
			return nil, fmt.Errorf("release %s is not a party's", r)
		}
		if err := d.helm(ctx, i, []byte(`{"kmsInit":{"enabled":false}}`), "--reuse-values"); err != nil {
			return nil, err
		}
	}
	return describeLeftovers(jobs, releases), nil
}

// leftovers lists the Jobs that have not completed and the releases that
// turn the init Job on.
func (d *Driver) leftovers(ctx context.Context) (jobs, releases []string, err error) {
	if jobs, err = d.jobs(ctx); err != nil {
		return nil, nil, err
	}
	releases, err = d.initReleases(ctx)
	return jobs, releases, err
}

func (d *Driver) jobs(ctx context.Context) ([]string, error) {
	list, err := d.cs.BatchV1().Jobs(d.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, d.explain(err, "listing jobs")
	}
	var out []string
	for _, j := range list.Items {
		if !slices.ContainsFunc(j.Status.Conditions, func(c batchv1.JobCondition) bool {
			return c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue
		}) {
			out = append(out, j.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// initReleases lists the deployed releases whose values set
// kmsInit.enabled, read from helm's own records: a Secret per revision
// (owner=helm), its "release" base64 of gzip of JSON whose "config" is
// the values given (helm v3 pkg/storage/driver/util.go).
func (d *Driver) initReleases(ctx context.Context) ([]string, error) {
	list, err := d.cs.CoreV1().Secrets(d.ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,status=deployed"})
	if err != nil {
		return nil, d.explain(err, "listing helm's releases")
	}
	var out []string
	for _, s := range list.Items {
		rel, err := decodeRelease(s.Data["release"])
		if err != nil {
			return nil, fmt.Errorf("reading helm's record %s: %w", s.Name, err)
		}
		if rel.Config.KmsInit.Enabled {
			out = append(out, rel.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

type helmRelease struct {
	Name   string `json:"name"`
	Config struct {
		KmsInit struct {
			Enabled bool `json:"enabled"`
		} `json:"kmsInit"`
	} `json:"config"`
}

func decodeRelease(data []byte) (helmRelease, error) {
	var rel helmRelease
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return rel, err
	}
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		z, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return rel, err
		}
		if b, err = io.ReadAll(z); err != nil {
			return rel, err
		}
	}
	return rel, json.Unmarshal(b, &rel)
}
