package buildkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/util/entitlements"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"

	"github.com/rust-s2i/rust-s2i-musl/internal/pipeline"
)

// Assemble implements pipeline.Kit. The LLB, built here:
//
//   - the root file system: the builder image (pinned by digest, its config's
//     environment and working directory applied) with the source copied to
//     job.SourceDest;
//   - job.Home mounted read-write over it: the builder's own home, merged with
//     each restored state directory (local contexts, sent as the build user's);
//   - job.Command run as the build user, with job.Env, and job.Secrets as
//     BuildKit secrets (files in a tmpfs that no snapshot holds);
//   - the home after the run (or only its bin/), exported as a tar to job.Out.
//
// Local contexts are keyed by job's source, so that buildkitd sends only what
// changed since its last build of it.
func (e *Engine) Assemble(ctx context.Context, job pipeline.KitJob) error {
	def, secrets, err := definition(ctx, job)
	if err != nil {
		return err
	}
	mounts, err := localMounts(job)
	if err != nil {
		return err
	}
	opt := bkclient.SolveOpt{
		LocalMounts: mounts,
		SharedKey:   sharedKey(job),
		Session:     []session.Attachable{authProvider(job.Keys), secretsprovider.FromMap(secrets)},
	}
	if job.Network == "host" {
		opt.AllowedEntitlements = []string{string(entitlements.EntitlementNetworkHost)}
	}

	pr, pw := io.Pipe()
	read := make(chan error, 1)
	go func() {
		err := job.Out(pr)
		if err == nil {
			_, err = io.Copy(io.Discard, pr) // whatever Out left: the exporter must finish
		}
		pr.CloseWithError(err)
		read <- err
	}()
	opt.Exports = []bkclient.ExportEntry{{
		Type:   bkclient.ExporterTar,
		Output: func(map[string]string) (io.WriteCloser, error) { return pw, nil },
	}}

	status := make(chan *bkclient.SolveStatus)
	shown := make(chan struct{})
	go func() {
		defer close(shown)
		display, err := progressui.NewDisplay(job.Log, progressui.PlainMode)
		if err != nil {
			for range status {
			}
			return
		}
		_, _ = display.UpdateFrom(context.WithoutCancel(ctx), status)
	}()
	_, err = e.c.Solve(ctx, def, opt, status)
	<-shown
	// Unblocks Out when the export never began or broke off; after a whole
	// export the exporter has closed pw already, and this changes nothing.
	if err != nil {
		pw.CloseWithError(errSolveFailed)
	} else {
		pw.Close()
	}
	outErr := <-read
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil && outErr != nil && !errors.Is(outErr, errSolveFailed):
		// Reading the result failed first (a full disk), and the export with it.
		return fmt.Errorf("reading the build's result from buildkitd at %s: %w", e.host, outErr)
	case err != nil:
		return fmt.Errorf("build on buildkitd at %s: %s", e.host, oneLine(err))
	case outErr != nil:
		return fmt.Errorf("reading the build's result from buildkitd at %s: %w", e.host, outErr)
	}
	return nil
}

// errSolveFailed ends the reading of a result whose build failed.
var errSolveFailed = errors.New("the build failed")

// definition is job's LLB, and the secrets it mounts by ID.
func definition(ctx context.Context, job pipeline.KitJob) (*llb.Definition, map[string][]byte, error) {
	cfg, err := json.Marshal(job.Builder.Config)
	if err != nil {
		return nil, nil, err
	}
	base, err := llb.Image(job.Builder.Ref).WithImageConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("the config of %s: %w", job.Builder.Ref, err)
	}
	owner := llb.WithUIDGID(job.Owner.UID, job.Owner.GID)
	rootfs := base.File(llb.Copy(llb.Local("source", llb.SharedKeyHint("source")), "/", job.SourceDest,
		&llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}, owner), llb.WithCustomName("the source"))

	// The builder's home as the mount's first layer, its own directory included:
	// a copy's destination root stays root's, where the build user could create
	// nothing. Run as root in the builder, once per builder (buildkitd caches it).
	const h = "/rust-s2i-home"
	user := strconv.Itoa(job.Owner.UID) + ":" + strconv.Itoa(job.Owner.GID)
	home := base.Run(
		llb.Args([]string{"/bin/sh", "-c", `cp -a "$1/." "$2/" && chown "$3" "$2" && chmod "$(stat -c %a "$1")" "$2"`, "sh", job.Home, h, user}),
		llb.User("0"), llb.Network(llb.NetModeNone), llb.WithCustomName("the builder's "+job.Home),
	).AddMount(h, llb.Scratch())
	// The restored state over it, the build user's: buildkitd makes a local
	// context's files root's whatever the client sends.
	for i := range job.State {
		home = home.File(llb.Copy(llb.Local(stateName(i), llb.SharedKeyHint(stateName(i))), "/", "/",
			&llb.CopyInfo{CopyDirContentsOnly: true}, owner), llb.WithCustomName("the restored state"))
	}

	opts := []llb.RunOption{
		llb.Args(job.Command), llb.User(user), llb.WithCustomName("assemble"),
		llb.AddMount(job.Home, home),
	}
	for _, kv := range job.Env {
		k, v, _ := strings.Cut(kv, "=")
		opts = append(opts, llb.AddEnv(k, v))
	}
	secrets := map[string][]byte{}
	for i, p := range slices.Sorted(maps.Keys(job.Secrets)) {
		id := "rust-s2i-" + strconv.Itoa(i)
		secrets[id] = job.Secrets[p]
		opts = append(opts, llb.AddSecret(p, llb.SecretID(id), llb.SecretFileOpt(job.Owner.UID, job.Owner.GID, 0o400)))
	}
	switch job.Network {
	case "host":
		opts = append(opts, llb.Network(llb.NetModeHost))
	case "none":
		opts = append(opts, llb.Network(llb.NetModeNone))
	}
	out := rootfs.Run(opts...).GetMount(job.Home)
	if !job.All {
		out = llb.Scratch().File(llb.Copy(out, "/bin", "/bin", &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true, AllowEmptyWildcard: true}),
			llb.WithCustomName("the binary"))
	}
	def, err := out.Marshal(ctx)
	if err != nil {
		return nil, nil, err
	}
	return def, secrets, nil
}

// stateName is the local context of job.State[i].
func stateName(i int) string { return "state" + strconv.Itoa(i) }

// localMounts are the source and state directories.
func localMounts(job pipeline.KitJob) (map[string]fsutil.FS, error) {
	dirs := map[string]string{"source": job.Source}
	for i, d := range job.State {
		dirs[stateName(i)] = d
	}
	mounts := map[string]fsutil.FS{}
	for name, dir := range dirs {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return nil, fmt.Errorf("sending %s to buildkitd: %w", dir, err)
		}
		mounts[name] = fs
	}
	return mounts, nil
}

// sharedKey names job's local contexts across builds: buildkitd keeps what it
// was last sent under it and receives only the difference.
func sharedKey(job pipeline.KitJob) string {
	sum := sha256.Sum256([]byte(job.Key))
	return "rust-s2i-musl-" + hex.EncodeToString(sum[:8])
}
