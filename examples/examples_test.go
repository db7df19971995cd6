// Package examples holds runnable CI and cluster configurations for
// sharded Yardstick runs (see README, "Scaling out"). The tests validate them
// offline: the GitHub Actions workflow with actionlint (as a library), the
// Kubernetes manifests by strict decoding into the k8s.io/api types (an
// unknown or misspelt field is an error), and both for the wiring between
// the engine's shard index and `yardstick run --shard`.
package examples

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	yaml "go.yaml.in/yaml/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/yardstick-eval/yardstick/bench/shard"
)

const workflowPath = "github-actions/yardstick-sharded.yml"

// lintWorkflow runs actionlint (offline; shellcheck and pyflakes off) on a
// workflow placed in a scratch project, returning its errors.
func lintWorkflow(t *testing.T, content []byte) []*actionlint.Error {
	t.Helper()
	proj := t.TempDir()
	wf := filepath.Join(proj, ".github", "workflows", "yardstick.yml")
	if err := os.MkdirAll(filepath.Dir(wf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(proj, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wf, content, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := actionlint.NewProject(proj)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFiles([]string{wf}, p)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

func TestWorkflowLints(t *testing.T) {
	data, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range lintWorkflow(t, data) {
		t.Errorf("actionlint: %s:%d:%d: %s [%s]", workflowPath, e.Line, e.Column, e.Message, e.Kind)
	}
	// The check can fail: a typo in a context or a key is caught.
	bad := bytes.Replace(data, []byte("matrix.shard }}/"), []byte("matrix.shrad }}/"), 1)
	bad = bytes.Replace(bad, []byte("fail-fast:"), []byte("fail-fst:"), 1)
	errs := lintWorkflow(t, bad)
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Message)
	}
	if all := strings.Join(msgs, "\n"); !strings.Contains(all, "shrad") || !strings.Contains(all, "fail-fst") {
		t.Errorf("actionlint missed a typo in a broken copy:\n%s", all)
	}
}

// TestWorkflowShards checks the wiring: the matrix lists shards 1..N, each
// shard job's YARDSTICK_SHARD resolves (as `--shard auto` reads it) to its
// own shard, every run directory is uploaded under the name the merge job
// downloads, and the merge job gates with yardstick merge.
func TestWorkflowShards(t *testing.T) {
	data, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Needs    any `yaml:"needs"`
			Strategy struct {
				FailFast *bool `yaml:"fail-fast"`
				Matrix   struct {
					Shard []int `yaml:"shard"`
				} `yaml:"matrix"`
			} `yaml:"strategy"`
			Steps []struct {
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				Env  map[string]string `yaml:"env"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	sj, mj := wf.Jobs["shard"], wf.Jobs["merge"]
	n := len(sj.Strategy.Matrix.Shard)
	if n < 2 {
		t.Fatalf("matrix has %d shards", n)
	}
	if sj.Strategy.FailFast == nil || *sj.Strategy.FailFast {
		t.Error("fail-fast must be false: one failed shard must not cancel the others")
	}
	var runLine, uploadName, uploadPath string
	var env map[string]string
	for _, s := range sj.Steps {
		if strings.Contains(s.Run, "yardstick run") {
			runLine, env = s.Run, s.Env
		}
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") {
			uploadName, uploadPath = s.With["name"], s.With["path"]
		}
	}
	if !strings.Contains(runLine, "--shard auto") {
		t.Fatalf("the shard job does not run yardstick run --shard auto:\n%s", runLine)
	}
	seen := map[int]bool{}
	for _, m := range sj.Strategy.Matrix.Shard {
		// What Actions makes of the expressions for this matrix entry.
		expand := func(s string) string {
			s = strings.ReplaceAll(s, "${{ matrix.shard }}", strconv.Itoa(m))
			return strings.ReplaceAll(s, "${{ strategy.job-total }}", strconv.Itoa(n))
		}
		sp, err := shard.Resolve("auto", func(k string) string { return expand(env[k]) })
		if err != nil {
			t.Fatalf("matrix shard %d: %v", m, err)
		}
		if sp.Index != m || sp.Count != n || seen[m] {
			t.Errorf("matrix shard %d resolves to %s", m, sp)
		}
		seen[m] = true
		out := regexp.MustCompile(`--out "?([^"\s]+)`).FindStringSubmatch(expand(runLine))
		if out == nil || out[1] != expand(uploadPath) {
			t.Errorf("shard %d writes %v but uploads %q", m, out, expand(uploadPath))
		}
	}
	for i := 1; i <= n; i++ {
		if !seen[i] {
			t.Errorf("no matrix entry runs shard %d/%d", i, n)
		}
	}

	if needs, _ := mj.Needs.(string); needs != "shard" {
		t.Errorf("merge job needs %v, want shard", mj.Needs)
	}
	var pattern, dlPath, mergeLine string
	for _, s := range mj.Steps {
		if strings.HasPrefix(s.Uses, "actions/download-artifact@") {
			pattern, dlPath = s.With["pattern"], s.With["path"]
		}
		if strings.Contains(s.Run, "yardstick merge") {
			mergeLine = s.Run
		}
	}
	if ok, _ := filepath.Match(pattern, strings.ReplaceAll(uploadName, "${{ matrix.shard }}", "1")); !ok {
		t.Errorf("merge downloads %q, shards upload %q", pattern, uploadName)
	}
	if !strings.Contains(mergeLine, dlPath+"/") || !strings.Contains(mergeLine, "--out") {
		t.Errorf("merge step does not merge what it downloaded into %s: %s", dlPath, mergeLine)
	}
}

// docs splits a multi-document YAML file.
func docs(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(d, "")) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}

// decodeStrict decodes a Kubernetes object, refusing unknown fields, and
// checks its apiVersion and kind.
func decodeStrict(t *testing.T, doc []byte, apiVersion, kind string, into any) {
	t.Helper()
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := k8syaml.Unmarshal(doc, &head); err != nil {
		t.Fatal(err)
	}
	if head.APIVersion != apiVersion || head.Kind != kind {
		t.Fatalf("document is %s %s, want %s %s", head.APIVersion, head.Kind, apiVersion, kind)
	}
	if err := k8syaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
}

// manifests decodes indexed-job.yaml and merge-job.yaml.
func manifests(t *testing.T) (*corev1.PersistentVolumeClaim, *batchv1.Job, *batchv1.Job) {
	d := docs(t, "kubernetes/indexed-job.yaml")
	if len(d) != 2 {
		t.Fatalf("indexed-job.yaml has %d documents, want 2 (claim, job)", len(d))
	}
	pvc, job, merge := new(corev1.PersistentVolumeClaim), new(batchv1.Job), new(batchv1.Job)
	decodeStrict(t, d[0], "v1", "PersistentVolumeClaim", pvc)
	decodeStrict(t, d[1], "batch/v1", "Job", job)
	md := docs(t, "kubernetes/merge-job.yaml")
	if len(md) != 1 {
		t.Fatalf("merge-job.yaml has %d documents, want 1", len(md))
	}
	decodeStrict(t, md[0], "batch/v1", "Job", merge)
	return pvc, job, merge
}

func TestKubernetesManifests(t *testing.T) {
	pvc, job, merge := manifests(t)

	spec := job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Fatalf("completionMode = %v, want Indexed", spec.CompletionMode)
	}
	if spec.Completions == nil || *spec.Completions < 2 {
		t.Fatalf("completions = %v", spec.Completions)
	}
	n := int(*spec.Completions)
	pod := spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever && pod.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("restartPolicy %q: a Job's pods need Never or OnFailure", pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	cmdline := strings.Join(append(append([]string{}, c.Command...), c.Args...), " ")
	m := regexp.MustCompile(`--shard auto/(\d+)`).FindStringSubmatch(cmdline)
	if m == nil {
		t.Fatalf("the shard pods do not run --shard auto/N:\n%s", cmdline)
	}
	if m[1] != strconv.Itoa(n) {
		t.Errorf("--shard auto/%s but completions %d", m[1], n)
	}
	// Each completion index is its own shard, 1..N.
	seen := map[int]bool{}
	for i := range n {
		sp, err := shard.Resolve("auto/"+m[1], func(k string) string {
			if k == shard.EnvK8sIdx {
				return strconv.Itoa(i)
			}
			return ""
		})
		if err != nil || sp.Index != i+1 || seen[sp.Index] {
			t.Errorf("completion index %d → %v, %v", i, sp, err)
		}
		seen[sp.Index] = true
	}
	if !strings.Contains(cmdline, "--resume") {
		t.Error("a retried pod must --resume its shard, not start over")
	}
	if !strings.Contains(cmdline, "${JOB_COMPLETION_INDEX}") {
		t.Error("each pod must write its own run directory (named by JOB_COMPLETION_INDEX)")
	}
	key := false
	for _, e := range c.Env {
		if e.Name == "OPENAI_API_KEY" {
			key = e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.Value == ""
		}
	}
	if !key {
		t.Error("OPENAI_API_KEY must come from a Secret, not a literal")
	}

	// The shards and the merge share the claim, mounted at the same path.
	claimOf := func(j *batchv1.Job) (claim, mount string) {
		ps := j.Spec.Template.Spec
		for _, v := range ps.Volumes {
			if v.PersistentVolumeClaim != nil {
				claim = v.PersistentVolumeClaim.ClaimName
				for _, vm := range ps.Containers[0].VolumeMounts {
					if vm.Name == v.Name {
						mount = vm.MountPath
					}
				}
			}
		}
		return claim, mount
	}
	sc, sm := claimOf(job)
	mc, mm := claimOf(merge)
	if sc != pvc.Name || mc != pvc.Name || sm == "" || sm != mm {
		t.Errorf("claim %q: shards mount %q at %q, merge %q at %q", pvc.Name, sc, sm, mc, mm)
	}
	if n > 1 && !(len(pvc.Spec.AccessModes) == 1 && pvc.Spec.AccessModes[0] == corev1.ReadWriteMany) {
		t.Errorf("parallel shard pods need a ReadWriteMany claim, got %v", pvc.Spec.AccessModes)
	}
	mergeLine := strings.Join(merge.Spec.Template.Spec.Containers[0].Args, " ")
	out := regexp.MustCompile(`--out "?([^"\s]+)`).FindStringSubmatch(cmdline)
	glob := regexp.MustCompile(`yardstick merge (\S+)`).FindStringSubmatch(mergeLine)
	if out == nil || glob == nil {
		t.Fatalf("cannot find the shard --out (%v) or the merge's input (%v)", out, glob)
	}
	for i := range n {
		dir := strings.ReplaceAll(out[1], "${JOB_COMPLETION_INDEX}", strconv.Itoa(i))
		if ok, _ := filepath.Match(glob[1], dir); !ok {
			t.Errorf("merge reads %s, which misses shard directory %s", glob[1], dir)
		}
	}
}

// TestStrictDecodingCatchesTypos: the schema check can fail.
func TestStrictDecodingCatchesTypos(t *testing.T) {
	d := docs(t, "kubernetes/indexed-job.yaml")
	bad := bytes.Replace(d[1], []byte("completions: 4"), []byte("completion: 4"), 1)
	if err := k8syaml.UnmarshalStrict(bad, new(batchv1.Job)); err == nil || !strings.Contains(err.Error(), "completion") {
		t.Errorf("a misspelt field decoded: %v", err)
	}
	bad = bytes.Replace(d[1], []byte("parallelism: 4"), []byte("parallelism: four"), 1)
	if err := k8syaml.UnmarshalStrict(bad, new(batchv1.Job)); err == nil {
		t.Error("a string where an integer belongs decoded")
	}
}
