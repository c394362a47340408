package pipeline

import (
	"bytes"
	"encoding/json"
	"github.com/rust-s2i/rust-s2i-musl/internal/platform/platformtest"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rust-s2i/rust-s2i-musl/internal/attest"
	"github.com/rust-s2i/rust-s2i-musl/internal/auditable"
	"github.com/rust-s2i/rust-s2i-musl/internal/config"
	"github.com/rust-s2i/rust-s2i-musl/internal/cratedeps"
	"github.com/rust-s2i/rust-s2i-musl/internal/image"
	"github.com/rust-s2i/rust-s2i-musl/internal/intoto"
	"github.com/rust-s2i/rust-s2i-musl/internal/plan"
	"github.com/rust-s2i/rust-s2i-musl/internal/provenance"
	"github.com/rust-s2i/rust-s2i-musl/internal/sbom"
	"github.com/rust-s2i/rust-s2i-musl/internal/source"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// helloMetadata is cargo metadata of the crate hello: one crates.io dependency
// (itoa) and a dev-dependency (tempfile) that no build of the binary uses.
const helloMetadata = `{"version":1,
 "workspace_members":["path+file:///src#hello@0.1.0"],
 "packages":[
  {"id":"path+file:///src#hello@0.1.0","name":"hello","version":"0.1.0","source":null,"license":"MIT",
   "targets":[{"name":"hello","kind":["bin"]}]},
  {"id":"registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.11","name":"itoa","version":"1.0.11",
   "source":"registry+https://github.com/rust-lang/crates.io-index","license":"MIT OR Apache-2.0",
   "targets":[{"name":"itoa","kind":["lib"]}]},
  {"id":"registry+https://github.com/rust-lang/crates.io-index#tempfile@3.10.1","name":"tempfile","version":"3.10.1",
   "source":"registry+https://github.com/rust-lang/crates.io-index","license":"MIT OR Apache-2.0",
   "targets":[{"name":"tempfile","kind":["lib"]}]}],
 "resolve":{"root":"path+file:///src#hello@0.1.0","nodes":[
  {"id":"path+file:///src#hello@0.1.0","features":[],"deps":[
   {"name":"itoa","pkg":"registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.11","dep_kinds":[{"kind":null,"target":null}]},
   {"name":"tempfile","pkg":"registry+https://github.com/rust-lang/crates.io-index#tempfile@3.10.1","dep_kinds":[{"kind":"dev","target":null}]}]},
  {"id":"registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.11","features":[],"deps":[]},
  {"id":"registry+https://github.com/rust-lang/crates.io-index#tempfile@3.10.1","features":[],"deps":[]}]}}`

const helloLock = `version = 3

[[package]]
name = "itoa"
version = "1.0.11"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b"
`

const helloRustc = "rustc 1.85.0 (4d91de4e4 2025-02-17)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\n"

// supplyPlan is a single-platform plan of hello with the supply settings as
// given, from a CI checkout of a known repository and commit.
func supplyPlan(t *testing.T, auditableOn, sbomOn, provenanceOn bool) *plan.Plan {
	t.Helper()
	cfg := config.Defaults()
	cfg.Binary, cfg.Source, cfg.Image = "hello", t.TempDir(), "ghcr.io/o/hello:1"
	pl := testPlan(t, cfg)
	pl.Auditable, pl.SBOM, pl.Provenance = auditableOn, sbomOn, provenanceOn
	pl.SBOMDir, pl.ToolVersion = t.TempDir(), "v9.9.9"
	pl.Source.URL, pl.Source.Commit = "https://github.com/o/hello", source.Commit{Revision: "0123456789abcdef0123456789abcdef01234567"}
	return pl
}

// helloFiles are the files a single-platform build of hello hands over.
func helloFiles(bin []byte, metadata bool) map[string][]byte {
	files := map[string][]byte{"hello": bin, tmpimage.LockFile: []byte(helloLock), tmpimage.RustcFile: []byte(helloRustc)}
	if metadata {
		files[tmpimage.MetadataFile] = []byte(helloMetadata)
	}
	return files
}

// crateNames are a graph's crates as name@version, sorted.
func crateNames(g *cratedeps.Graph) []string {
	var out []string
	for _, c := range g.Crates {
		out = append(out, c.Name+"@"+c.Version)
	}
	return out
}

// withCrates embeds the crates of the handed-over metadata in the binary (never
// the dev-dependency), leaves the binary as it came with auditable off or
// without metadata (then saying why), and changes nothing in the files given.
func TestWithCrates(t *testing.T) {
	t.Parallel()
	bin := platformtest.ThisBinary(t)
	tests := []struct {
		name               string
		auditable, sbom    bool
		metadata           bool
		wantGraph, changed bool
		problem            string
	}{
		{"embedded", true, true, true, true, true, ""},
		{"auditable off", false, true, true, true, false, ""},
		{"both off", false, false, true, false, false, ""},
		{"no metadata", true, true, false, false, false, "no cargo metadata"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pl := supplyPlan(t, tc.auditable, tc.sbom, true)
			files := helloFiles(bin, tc.metadata)
			out, g, problem := withCrates(pl, files, "hello", x86Target, false)
			if (problem == nil) != (tc.problem == "") || (problem != nil && !strings.Contains(problem.Error(), tc.problem)) {
				t.Errorf("problem %v, want %q", problem, tc.problem)
			}
			if (g != nil) != tc.wantGraph {
				t.Fatalf("graph %v, want one: %v", g, tc.wantGraph)
			}
			if g != nil && !slices.Equal(crateNames(g), []string{"hello@0.1.0", "itoa@1.0.11"}) {
				t.Errorf("crates %q, want hello and itoa, no dev-dependency", crateNames(g))
			}
			if !bytes.Equal(files["hello"], bin) {
				t.Error("the files given were changed")
			}
			if changed := !bytes.Equal(out["hello"], bin); changed != tc.changed {
				t.Fatalf("binary changed %v, want %v", changed, tc.changed)
			}
			if tc.changed {
				checkEmbedded(t, out["hello"], []string{"hello@0.1.0", "itoa@1.0.11"})
			}
		})
	}
}

// checkEmbedded reads the .dep-v0 list back out of bin.
func checkEmbedded(t *testing.T, bin []byte, want []string) {
	t.Helper()
	path := t.TempDir() + "/bin"
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	v, err := auditable.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range v.Packages {
		got = append(got, p.Name+"@"+p.Version)
	}
	if !slices.Equal(got, want) {
		t.Errorf("embedded %q, want %q", got, want)
	}
}

// helloSupply is the Supply of a single-platform hello image built at created.
func helloSupply(t *testing.T, pl *plan.Plan, created time.Time) *Supply {
	t.Helper()
	files := helloFiles(platformtest.ThisBinary(t), true)
	g, err := resolveCrates(pl, files, x86Target, false)
	if err != nil {
		t.Fatal(err)
	}
	labels, _ := pl.ImageLabels(nil)
	sup, err := newSupply(pl, files, created, labels, provenance.Image{Ref: "builder:1", Digest: "sha256:" + strings.Repeat("b", 64)},
		[]SupplyPart{{Platform: "linux/amd64", Target: x86Target, Graph: g, Runtime: provenance.Image{Ref: "alpine:3", Digest: "sha256:" + strings.Repeat("a", 64)}}})
	if err != nil {
		t.Fatal(err)
	}
	return sup
}

// The SBOM file and the statements depend on the build's inputs alone: the same
// build under another tag, into another directory, gives the same bytes; the
// SBOM is dated by the image's time; the statements are the settings' (an SBOM
// with sbom, a provenance naming the commit with provenance) and hold no env or
// secret-env value.
func TestSupplyStatements(t *testing.T) {
	t.Parallel()
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("c", 64)}
	tests := []struct {
		name             string
		sbom, provenance bool
		want             []string // predicate types
	}{
		{"both", true, true, []string{sbom.PredicateType, provenance.PredicateType}},
		{"sbom only", true, false, []string{sbom.PredicateType}},
		{"provenance only", false, true, []string{provenance.PredicateType}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var runs [][]byte
			for _, tag := range []string{"1", "2"} {
				pl := supplyPlan(t, true, tc.sbom, tc.provenance)
				pl.Image = "ghcr.io/o/hello:" + tag
				pl.Env, pl.SecretEnv = []string{"PLAIN_ENV=env-value-42"}, []string{"TOKEN=secret-value-42"}
				sup := helloSupply(t, pl, created)
				if tc.sbom != (sup.SBOMPath != "") {
					t.Fatalf("sbom %v, SBOM file %q", tc.sbom, sup.SBOMPath)
				}
				sts, problem := sup.Statements(pl, 0, d)
				if problem != nil {
					t.Fatal(problem)
				}
				var types []string
				for _, st := range sts {
					types = append(types, st.PredicateType)
				}
				if !slices.Equal(types, tc.want) {
					t.Errorf("statements %q, want %q", types, tc.want)
				}
				runs = append(runs, statementBytes(t, sts, sup.SBOMPath))
			}
			if !bytes.Equal(runs[0], runs[1]) {
				t.Errorf("two tags gave different statements:\n%s\n%s", runs[0], runs[1])
			}
			checkStatementText(t, string(runs[0]), tc.sbom, tc.provenance)
		})
	}
}

// statementBytes are the statements' JSON and the SBOM file's content.
func statementBytes(t *testing.T, sts []intoto.Statement, sbomPath string) []byte {
	t.Helper()
	var all []byte
	for _, st := range sts {
		b, err := st.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if sbomPath != "" {
		f, err := os.ReadFile(sbomPath)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, f...)
	}
	return all
}

// checkStatementText checks what the statements say, and what they never say.
func checkStatementText(t *testing.T, text string, withSBOM, withProvenance bool) {
	t.Helper()
	for _, never := range []string{"env-value-42", "secret-value-42", "PLAIN_ENV", "TOKEN"} {
		if strings.Contains(text, never) {
			t.Errorf("the statements hold %q", never)
		}
	}
	want := map[string]bool{
		"pkg:cargo/itoa@1.0.11":                             withSBOM,
		"2024-01-02T03:04:05Z":                              withSBOM,
		"tempfile":                                          false,
		"0123456789abcdef0123456789abcdef01234567":          withProvenance,
		"https://github.com/o/hello":                        withProvenance,
		"pkg:docker/ghcr.io/o/hello?platform=linux%2Famd64": true,
	}
	for s, w := range want {
		if strings.Contains(text, s) != w {
			t.Errorf("the statements hold %q: %v, want %v", s, !w, w)
		}
	}
}

// A single-platform push with attestations becomes an OCI index of the pushed
// image (by its digest, not pushed again) and its attestation manifest, under
// the same name; the digest is the index's. Without statements the image stays.
func TestAttachPushed(t *testing.T) {
	t.Parallel()
	host := testenv.Registry(t)
	for _, attach := range []bool{true, false} {
		pl := supplyPlan(t, true, attach, attach)
		ref := host + "/o/hello:" + map[bool]string{true: "attached", false: "plain"}[attach]
		pl.Image, pl.Tags = ref, []string{ref}
		img := pushRandom(t, ref)
		d, _ := img.Digest()
		res := &Result{Image: ref, Tags: pl.Tags, Supply: helloSupply(t, pl, time.Unix(0, 0).UTC())}
		pub := &publishStage{logs: logs{Report: &memReport{}, Log: &strings.Builder{}}}
		got, err := pub.attachPushed(t.Context(), pl, res, ref, d.String())
		if err != nil {
			t.Fatal(err)
		}
		if !attach {
			if got != d.String() {
				t.Errorf("without statements: digest %s, want the image's %s", got, d)
			}
			continue
		}
		checkAttachedIndex(t, ref, got, d)
	}
}

// pushRandom pushes a random linux/amd64 image as ref.
func pushRandom(t *testing.T, ref string) v1.Image {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag(ref)
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	return img
}

// checkAttachedIndex checks that ref names the index digest: the image d, then
// its attestation manifest pointing at it with the SBOM and the provenance.
func checkAttachedIndex(t *testing.T, ref, digest string, d v1.Hash) {
	t.Helper()
	tag, _ := name.NewTag(ref)
	idx, err := remote.Index(tag)
	if err != nil {
		t.Fatalf("%s is no index: %v", ref, err)
	}
	if id, _ := idx.Digest(); id.String() != digest {
		t.Errorf("the digest is %s, %s is %s", digest, ref, id)
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 2 || im.Manifests[0].Digest != d || im.Manifests[0].Platform == nil || im.Manifests[0].Platform.Architecture != "amd64" {
		t.Fatalf("the index holds %+v, want the image %s (linux/amd64) and its attestations", im.Manifests, d)
	}
	att := im.Manifests[1]
	if att.Annotations[attest.RefTypeAnnotation] != attest.AttestationManifestType || att.Annotations[attest.RefDigestAnnotation] != d.String() {
		t.Errorf("the attestation manifest's annotations %v", att.Annotations)
	}
	m, err := idx.Image(att.Digest)
	if err != nil {
		t.Fatal(err)
	}
	man, _ := m.Manifest()
	var types []string
	for _, l := range man.Layers {
		types = append(types, l.Annotations[attest.PredicateTypeAnnotation])
	}
	if !slices.Equal(types, []string{sbom.PredicateType, provenance.PredicateType}) {
		t.Errorf("attestation layers %q, want the SBOM and the provenance", types)
	}
}

// Small helpers' table: the repository a name is, the digest an image goes by,
// the host rustc names, the source URI the provenance may name.
func TestSupplyNames(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ghcr.io/o/app:1": "ghcr.io/o/app", "rust-musl-hello": "rust-musl-hello",
		"127.0.0.1:5000/rs2i/hello:e2e": "127.0.0.1:5000/rs2i/hello", "docker.io/library/alpine:3": "alpine",
	} {
		if got := repository(in); got != want {
			t.Errorf("repository(%q) = %q, want %q", in, got, want)
		}
	}
	digests := []struct{ ref, want string }{
		{"alpine:3", "sha256:lib"},
		{"ghcr.io/o/base:1", "sha256:o"},
		{"local/builder:1", "sha256:lib"},
	}
	for _, tc := range digests {
		if got := imageDigest(tc.ref, []string{"alpine@sha256:lib", "ghcr.io/o/base@sha256:o"}, "sha256:id"); got != tc.want {
			t.Errorf("imageDigest(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
	if got := imageDigest("x:1", nil, "sha256:id"); got != "sha256:id" {
		t.Errorf("without repo digests: %q, want the ID", got)
	}
	if got := rustcHost([]byte(helloRustc)); got != "x86_64-unknown-linux-gnu" {
		t.Errorf("rustcHost = %q", got)
	}
	uris := []struct{ identity, label, want string }{
		{"/home/me/app", "", ""},
		{"https://git.example.com/o/app.git", "", "https://git.example.com/o/app.git"},
		{"git@github.com:o/app.git", "", "git@github.com:o/app.git"},
		{"/home/me/app", "https://github.com/o/app", "https://github.com/o/app"},
	}
	for _, tc := range uris {
		pl := &plan.Plan{Source: plan.Source{Identity: tc.identity}}
		labels := map[string]string{}
		if tc.label != "" {
			labels[image.LabelSource] = tc.label
		}
		if got := sourceURI(pl, labels); got != tc.want {
			t.Errorf("sourceURI(%q, %q) = %q, want %q", tc.identity, tc.label, got, tc.want)
		}
	}
}

// The SPDX file the sbom output names is valid JSON listing the crates.
func TestSBOMFile(t *testing.T) {
	t.Parallel()
	pl := supplyPlan(t, true, true, false)
	sup := helloSupply(t, pl, time.Unix(0, 0).UTC())
	if !strings.HasPrefix(sup.SBOMPath, pl.SBOMDir) || !strings.HasSuffix(sup.SBOMPath, "/hello.spdx.json") {
		t.Fatalf("SBOM at %q, want hello.spdx.json under %s", sup.SBOMPath, pl.SBOMDir)
	}
	raw, err := os.ReadFile(sup.SBOMPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc sbom.Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range doc.Packages {
		names = append(names, p.Name+"@"+p.VersionInfo)
	}
	if !slices.Equal(names, []string{"hello@0.1.0", "itoa@1.0.11"}) {
		t.Errorf("the SBOM lists %q", names)
	}
}

// With platforms and push, each platform's image gets its own attestation
// manifest in the index, after the images, pointing at it; without push or an
// OCI output the index holds the images alone (a daemon keeps no attestations).
func TestIndexAttestations(t *testing.T) {
	t.Parallel()
	for _, push := range []bool{true, false} {
		w := newIndexWorld(t, push, "")
		w.pl.Source.URL, w.pl.Source.Commit = "https://github.com/o/hello", source.Commit{Revision: strings.Repeat("1", 40)}
		w.pl.SBOMDir = t.TempDir()
		for _, tg := range w.st.Targets {
			w.built.Collected[tmpimage.TargetFile(tg, tmpimage.MetadataFile)] = []byte(helloMetadata)
		}
		w.built.Collected[tmpimage.RustcFile] = []byte(helloRustc)
		out, err := w.pkg.Package(t.Context(), w.pl, w.st, nil, w.built)
		if err != nil {
			t.Fatal(err)
		}
		im, err := out.Index.Index.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := out.Index.Index.Digest(); d != out.Index.Digest {
			t.Errorf("the index's digest %s, Digest says %s", d, out.Index.Digest)
		}
		if !push {
			if len(im.Manifests) != 2 {
				t.Errorf("without push the index holds %d manifests, want the 2 images", len(im.Manifests))
			}
			continue
		}
		if len(im.Manifests) != 4 {
			t.Fatalf("the index holds %d manifests, want 2 images and 2 attestation manifests", len(im.Manifests))
		}
		for i, img := range out.Index.Images {
			att := im.Manifests[2+i]
			if im.Manifests[i].Digest != img.Digest || att.Annotations[attest.RefDigestAnnotation] != img.Digest.String() ||
				att.Annotations[attest.RefTypeAnnotation] != attest.AttestationManifestType {
				t.Errorf("manifest %d: %+v, its attestations %+v; want them pointing at %s", i, im.Manifests[i], att, img.Digest)
			}
		}
		if out.Supply == nil || !strings.HasSuffix(out.Supply.SBOMPath, "hello.linux-arm64.spdx.json") {
			t.Errorf("the sbom output is %q, want the first platform's file", out.Supply.sbomPath())
		}
	}
}
