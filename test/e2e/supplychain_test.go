package e2e

// The supply chain (docs/supply-chain.md): the binary in the final image carries
// the crates it was compiled from (cargo-auditable's .dep-v0), the sbom output
// names an SPDX file of the same crates, and a push carries the SBOM and the
// provenance in BuildKit's attestation layout. syft, built from its Go module
// (hack/syft.sh, $SYFT), reads the crates out of the image as a scanner does.
// Every SPDX document read here, file or attestation, must validate against the
// SPDX 2.3 JSON schema that syft's module ships (test/spdxschema, $SPDX_SCHEMA).

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rust-s2i/rust-s2i-musl/internal/attest"
	"github.com/rust-s2i/rust-s2i-musl/internal/auditable"
	"github.com/rust-s2i/rust-s2i-musl/internal/intoto"
	"github.com/rust-s2i/rust-s2i-musl/internal/provenance"
	"github.com/rust-s2i/rust-s2i-musl/internal/sbom"
	"github.com/rust-s2i/rust-s2i-musl/test/spdxschema"
	"github.com/rust-s2i/rust-s2i-musl/test/testenv"
)

// gitdepCrates are the crates compiled into gitdep: itself and its git dependency.
var gitdepCrates = []string{"gitdep@0.1.0", "greet@0.1.0"}

// embeddedCrates reads the .dep-v0 list out of bin as name@version, sorted; the
// build dependencies too when withBuild.
func embeddedCrates(t *testing.T, bin []byte, withBuild bool) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	v, err := auditable.Read(path)
	if err != nil {
		t.Fatalf("the binary carries no crate list: %v", err)
	}
	var out []string
	for _, p := range v.Packages {
		if withBuild || !p.IsBuild() {
			out = append(out, p.Name+"@"+p.Version)
		}
	}
	slices.Sort(out)
	return out
}

// sbomCrates reads the SPDX file at path: its packages as name@version, sorted,
// and each one's purl.
func sbomCrates(t *testing.T, path string) (crates []string, purls map[string]string) {
	t.Helper()
	if path == "" {
		t.Fatal("no sbom output")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return spdxCrates(t, raw)
}

// spdxCrates reads an SPDX document's packages, once it validates against the
// SPDX 2.3 JSON schema.
func spdxCrates(t *testing.T, raw []byte) (crates []string, purls map[string]string) {
	t.Helper()
	if err := spdxschema.ForTest(t).Validate(raw); err != nil {
		t.Errorf("the SBOM: %v", err)
	}
	var doc sbom.Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("the SBOM is no SPDX JSON: %v", err)
	}
	if doc.SPDXVersion != "SPDX-2.3" {
		t.Errorf("spdxVersion %q", doc.SPDXVersion)
	}
	purls = map[string]string{}
	for _, p := range doc.Packages {
		c := p.Name + "@" + p.VersionInfo
		crates = append(crates, c)
		for _, r := range p.ExternalRefs {
			if r.ReferenceType == "purl" {
				purls[c] = r.ReferenceLocator
			}
		}
	}
	slices.Sort(crates)
	return crates, purls
}

// The git-dependency crate's binary in the final image lists exactly its crates
// (gitdep, and greet from git); the sbom output's SPDX file lists the same, each
// with its purl (greet's with the repository and commit); with auditable false
// the binary carries no list, and so is another image.
func TestSupplyChainGitDep(t *testing.T) {
	needDocker(t)
	t.Parallel()
	src := withGitDep(t)
	final, tmp := names(t)
	r := mustBuild(t, src, "gitdep", final, tmp)
	if got := embeddedCrates(t, binaryOf(t, final, "gitdep"), true); !slices.Equal(got, gitdepCrates) {
		t.Errorf("the binary lists %q, want %q", got, gitdepCrates)
	}
	crates, purls := sbomCrates(t, output(r, "sbom"))
	if !slices.Equal(crates, gitdepCrates) {
		t.Errorf("the SBOM lists %q, want %q", crates, gitdepCrates)
	}
	if p := purls["greet@0.1.0"]; !strings.HasPrefix(p, "pkg:cargo/greet@0.1.0?vcs_url=git%2Bfile") {
		t.Errorf("greet's purl %q, want its git repository and commit", p)
	}
	if p := purls["gitdep@0.1.0"]; p != "pkg:cargo/gitdep@0.1.0" {
		t.Errorf("gitdep's purl %q", p)
	}
	with, withSize := imageID(t, final), len(binaryOf(t, final, "gitdep"))
	off := mustBuild(t, src, "gitdep", final, tmp, "--auditable=false", "--sbom=false")
	plain := binaryOf(t, final, "gitdep")
	if _, err := auditable.Read(writeTemp(t, plain)); err == nil {
		t.Error("with auditable false the binary still carries a crate list")
	}
	t.Logf("the crate list adds %d bytes to the %d-byte binary", withSize-len(plain), len(plain))
	if imageID(t, final) == with {
		t.Error("with and without the crate list the image is the same")
	}
	if output(off, "sbom") != "" {
		t.Errorf("with sbom false the sbom output is %q", output(off, "sbom"))
	}
}

// writeTemp writes data to a new file and returns its path.
func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// The crates follow the features: sbomfeat alone without features; with
// --features extra its optional path dependency shout too. Its dev-dependency
// devonly is in neither the binary nor the SBOM.
func TestSupplyChainFeatures(t *testing.T) {
	needDocker(t)
	t.Parallel()
	tests := []struct {
		name  string
		extra []string
		want  []string
	}{
		{"default", nil, []string{"sbomfeat@0.1.0"}},
		{"extra", []string{"--features", "extra"}, []string{"sbomfeat@0.1.0", "shout@0.2.0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			final, tmp := names(t)
			r := mustBuild(t, copyTree(t, crate("sbomfeat")), "sbomfeat", final, tmp, tc.extra...)
			if got := embeddedCrates(t, binaryOf(t, final, "sbomfeat"), true); !slices.Equal(got, tc.want) {
				t.Errorf("the binary lists %q, want %q", got, tc.want)
			}
			crates, purls := sbomCrates(t, output(r, "sbom"))
			if !slices.Equal(crates, tc.want) {
				t.Errorf("the SBOM lists %q, want %q", crates, tc.want)
			}
			for _, c := range tc.want {
				if n, v, _ := strings.Cut(c, "@"); purls[c] != "pkg:cargo/"+n+"@"+v {
					t.Errorf("%s's purl is %q", c, purls[c])
				}
			}
			raw, _ := os.ReadFile(output(r, "sbom"))
			if strings.Contains(string(raw), "devonly") {
				t.Error("the SBOM names the dev-dependency devonly")
			}
		})
	}
}

// attestation is one attestation manifest of a pushed index.
type attestation struct {
	image      v1.Hash // vnd.docker.reference.digest
	statements []intoto.Statement
	raw        string // every layer's bytes, for grepping
}

// pushedAttestations reads ref's index: its images' digests, in order, and each
// attestation manifest's statements, checking BuildKit's annotations.
func pushedAttestations(t *testing.T, ref string) (images []v1.Hash, atts []attestation) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(r)
	if err != nil {
		t.Fatalf("%s is no index: %v", ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		if d.Annotations[attest.RefTypeAnnotation] != attest.AttestationManifestType {
			images = append(images, d.Digest)
			continue
		}
		if d.Platform == nil || d.Platform.OS != "unknown" || d.Platform.Architecture != "unknown" {
			t.Errorf("attestation manifest %s has platform %v, want unknown/unknown", d.Digest, d.Platform)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		var att attestation
		if att.image, err = v1.NewHash(d.Annotations[attest.RefDigestAnnotation]); err != nil {
			t.Errorf("attestation manifest %s: %s %q: %v", d.Digest, attest.RefDigestAnnotation, d.Annotations[attest.RefDigestAnnotation], err)
		}
		att.statements, att.raw = statementsOf(t, img)
		atts = append(atts, att)
	}
	return images, atts
}

// statementsOf reads an attestation manifest's in-toto layers.
func statementsOf(t *testing.T, img v1.Image) ([]intoto.Statement, string) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var sts []intoto.Statement
	var raw strings.Builder
	for _, l := range layers {
		if mt, _ := l.MediaType(); mt != attest.InTotoMediaType {
			t.Errorf("an attestation layer of type %s", mt)
		}
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		raw.Write(b)
		var st intoto.Statement
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatalf("an attestation layer is no in-toto statement: %v", err)
		}
		sts = append(sts, st)
	}
	return sts, raw.String()
}

// checkAttestations checks that every image of a pushed index has exactly one
// attestation manifest, about it, with an SBOM of want and a provenance naming
// commit, and that none holds any of secrets.
func checkAttestations(t *testing.T, images []v1.Hash, atts []attestation, want []string, commit string, secrets ...string) {
	t.Helper()
	if len(atts) != len(images) {
		t.Fatalf("%d attestation manifests for %d images", len(atts), len(images))
	}
	for i, att := range atts {
		if att.image != images[i] {
			t.Errorf("attestation manifest %d is about %s, want %s (the images' order)", i, att.image, images[i])
		}
		var types []string
		for _, st := range att.statements {
			types = append(types, st.PredicateType)
			if !st.Covers(images[i].String()) {
				t.Errorf("a %s statement is not about %s: %+v", st.PredicateType, images[i], st.Subject)
			}
			if st.PredicateType == sbom.PredicateType {
				if got, _ := spdxCrates(t, st.Predicate); !slices.Equal(got, want) {
					t.Errorf("the SBOM attestation lists %q, want %q", got, want)
				}
			}
		}
		if !slices.Equal(types, []string{sbom.PredicateType, provenance.PredicateType}) {
			t.Errorf("statements %q, want the SBOM and the provenance", types)
		}
		if !strings.Contains(att.raw, `"gitCommit":"`+commit+`"`) {
			t.Errorf("the provenance does not name the commit %s:\n%s", commit, att.raw)
		}
		for _, s := range secrets {
			if strings.Contains(att.raw, s) {
				t.Errorf("an attestation holds the secret %q", s)
			}
		}
	}
}

// A two-platform push from the Actions front end, with a secret-env value and a
// registry password: the index holds an attestation manifest per platform image,
// after the images, each pointing at its image, with the SBOM of gitdep's crates
// and a provenance that names the commit and holds neither secret. A
// single-platform push of the same crate pushes an index of the image and its
// attestation manifest, whose digest is the digest output.
func TestSupplyChainPushAttestations(t *testing.T) {
	needDocker(t)
	t.Parallel()
	const secret, password, commit = "Supply-S3cret-Value-4711", "Supply-Passw0rd-0815", "c0ffee0123456789abcdef0123456789abcdef01"
	ws := t.TempDir()
	src := filepath.Join(ws, "gitdep")
	if err := os.Rename(withGitDep(t), src); err != nil {
		t.Fatal(err)
	}
	_, tmp := names(t)
	ref := pushedName(t, "supply", "two")
	env, _, _ := actionsEnv(t, ws, map[string]string{
		"binary": "gitdep", "source": src, "builder": builderImage, "runtime-image": testenv.MultiArchBase(t),
		"image": ref, "tmp-image": tmp, "cache": "none", "platforms": bothPlatforms, "push": "true",
		"username": "supply", "password": password, "secret-env": "SUPPLY_SECRET=" + secret,
	})
	env = append(env, "GITHUB_SERVER_URL=https://github.com", "GITHUB_REPOSITORY=rs2i/gitdep", "GITHUB_SHA="+commit)
	r := runCmd(t, env, "build")
	if r.code != 0 {
		t.Fatalf("two-platform build and push failed:\n%s", r)
	}
	images, atts := pushedAttestations(t, ref)
	if len(images) != 2 {
		t.Fatalf("the index holds %d images, want 2", len(images))
	}
	checkAttestations(t, images, atts, gitdepCrates, commit, secret, password)

	single := pushedName(t, "supply", "one")
	r1 := runCmd(t, []string{"GITHUB_SHA=" + commit, "GITHUB_SERVER_URL=https://github.com", "GITHUB_REPOSITORY=rs2i/gitdep"},
		buildArgs(src, "gitdep", single, tmp, "--push")...)
	if r1.code != 0 {
		t.Fatalf("single-platform build and push failed:\n%s", r1)
	}
	t.Cleanup(func() { command("docker", "rmi", "-f", single) })
	images1, atts1 := pushedAttestations(t, single)
	if len(images1) != 1 {
		t.Fatalf("the single-platform push is an index of %d images, want 1", len(images1))
	}
	checkAttestations(t, images1, atts1, gitdepCrates, commit)
	sr, _ := name.ParseReference(single)
	if desc, err := remote.Head(sr); err != nil || output(r1, "digest") != desc.Digest.String() {
		t.Errorf("digest output %q, the registry's index is %v (%v)", output(r1, "digest"), desc, err)
	}
	// Docker pulls the index, skipping the attestation manifest (unknown/unknown).
	if out, err := command("docker", "rmi", single); err != nil {
		t.Fatalf("removing the local image: %v\n%s", err, out)
	}
	if out, err := command("docker", "pull", single); err != nil {
		t.Fatalf("docker pull of the pushed index: %v\n%s", err, out)
	}
	if got := runImage(t, single); !strings.Contains(got, "greetings, gitdep") {
		t.Errorf("the pulled index runs as %q", got)
	}
}

// syftBinary is $SYFT, which `make test` sets from hack/syft.sh. Outside -short
// it must be set: CI cannot pass without the scanner.
func syftBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("SYFT")
	if bin == "" {
		t.Fatal("SYFT is not set: run SYFT=$(bash hack/syft.sh) go test ./test/e2e (make test does)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("SYFT=%s: %v (run bash hack/syft.sh)", bin, err)
	}
	return bin
}

// syft scans the final image, saved with docker save (no daemon access for
// syft), and lists as rust-crate packages exactly the crates the binary carries:
// gitdep's git dependency; ringdigest's crates.io dependencies from Debian's
// packages, whose Cargo.lock also holds crates for other platforms (winapi,
// wasm-bindgen) that a Linux binary does not contain; and sbomfeat without its
// feature, which leaves out an optional dependency, and whose dev-dependency no
// build compiles.
func TestSyftListsCrates(t *testing.T) {
	needDocker(t)
	t.Parallel()
	syft := syftBinary(t)
	tests := []struct {
		crate       string
		src         func(t *testing.T) string
		has, hasNot []string
	}{
		{"gitdep", withGitDep, []string{"greet"}, nil},
		{"ringdigest", func(t *testing.T) string { return copyTree(t, crate("ringdigest")) },
			[]string{"ring", "spin", "untrusted"}, []string{"winapi", "wasm-bindgen", "web-sys"}},
		{"sbomfeat", func(t *testing.T) string { return copyTree(t, crate("sbomfeat")) }, nil, []string{"shout", "devonly"}},
	}
	for _, tt := range tests {
		t.Run(tt.crate, func(t *testing.T) {
			t.Parallel()
			final, tmp := names(t)
			mustBuild(t, tt.src(t), tt.crate, final, tmp)
			// syft, as cargo-audit and grype, reports what runs: the crates the list
			// marks as build dependencies (ring's cc) are compiled into no code of
			// the binary, and it leaves them out.
			want := embeddedCrates(t, binaryOf(t, final, tt.crate), false)
			got := syftCrates(t, syft, final)
			if !slices.Equal(got, want) {
				t.Errorf("syft lists the crates %q, the binary carries at run time %q", got, want)
			}
			listed := map[string]bool{}
			for _, c := range got {
				listed[strings.SplitN(c, "@", 2)[0]] = true
			}
			for _, n := range tt.has {
				if !listed[n] {
					t.Errorf("syft does not list %s: %q", n, got)
				}
			}
			for _, n := range tt.hasNot {
				if listed[n] {
					t.Errorf("syft lists %s, which the binary does not contain: %q", n, got)
				}
			}
		})
	}
}

// syftCrates are the rust-crate packages (NAME@VERSION, sorted) syft finds in the
// image ref, saved with docker save.
func syftCrates(t *testing.T, syft, ref string) []string {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	if out, err := command("docker", "save", "-o", archive, ref); err != nil {
		t.Fatalf("docker save: %v\n%s", err, out)
	}
	cmd := exec.Command(syft, "docker-archive:"+archive, "-o", "json", "-q")
	cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("syft: %v\n%s", err, out)
	}
	var doc struct {
		Artifacts []struct {
			Name, Version, Type, PURL string
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("syft's JSON: %v", err)
	}
	var got []string
	for _, a := range doc.Artifacts {
		if a.Type == "rust-crate" {
			got = append(got, a.Name+"@"+a.Version)
			t.Logf("syft: %s %s %s", a.Name, a.Version, a.PURL)
		}
	}
	slices.Sort(got)
	return got
}
