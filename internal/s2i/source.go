package s2i

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/openshift/source-to-image/pkg/api"
	"github.com/openshift/source-to-image/pkg/api/constants"
	"github.com/openshift/source-to-image/pkg/build"
	"github.com/openshift/source-to-image/pkg/scm"
	"github.com/openshift/source-to-image/pkg/scm/git"
	s2ifs "github.com/openshift/source-to-image/pkg/util/fs"

	"github.com/rust-s2i/rust-s2i-musl/internal/source"
	"github.com/rust-s2i/rust-s2i-musl/internal/tmpimage"
)

// localSource puts a local source directory where S2I uploads it from, in place of
// S2I's own copy, for two reasons. It keeps each file's modification time (a hard
// link shares it; a copy gets it set), so cargo sees unchanged files as unchanged
// and does not recompile the crate. And it leaves out the crate's own target/
// directory, which can be gigabytes of host build output the build never reads
// (source.Walk decides what the build sees).
type localSource struct {
	dir string
	// collectToken, when set, goes beside the source: assemble sends the binary
	// on stdout between lines with it (see collect.go).
	collectToken string
}

// Download implements S2I's build.Downloader.
func (s localSource) Download(cfg *api.Config) (*git.SourceInfo, error) {
	cfg.WorkingSourceDir = filepath.Join(cfg.WorkingDir, constants.Source)
	if err := source.Place(s.dir, cfg.WorkingSourceDir); err != nil {
		return nil, fmt.Errorf("copying source %s: %w", s.dir, err)
	}
	if s.collectToken != "" {
		// Beside src/ in what S2I uploads, so in the container's /tmp.
		token := filepath.Join(filepath.Dir(cfg.WorkingSourceDir), tmpimage.CollectTokenFile)
		if err := os.WriteFile(token, []byte(s.collectToken+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	return &git.SourceInfo{Location: s.dir}, nil
}

// downloader is what puts req's source where S2I builds it from: localSource for
// a local directory, S2I's own downloader otherwise (a git URL, which S2I clones;
// a copy with an Exclude pattern, in tests). Either way through guarded, so that
// what S2I then reads of the source is only what the build may see.
func downloader(req Request, cfg *api.Config, collect *collector) (build.Downloader, error) {
	if req.Copy && req.Exclude == "" {
		src := localSource{dir: req.Source}
		if collect != nil {
			collect.token = "rust-s2i-collect-" + randomDigits(16)
			src.collectToken = collect.token
		}
		return guarded{src}, nil
	}
	inner, err := scm.DownloaderForSource(s2ifs.NewFileSystem(), cfg.Source, cfg.ForceCopy)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", source.Redact(req.Source), err)
	}
	return guarded{inner}, nil
}

// guarded runs a Downloader and then makes its copy of the source safe to hand
// to S2I, which acts on some of the source's files on the host before any
// container runs (see source.S2IConventions): they are removed from the copy, in
// S2I's working directory, never from the user's checkout. The source's location,
// which S2I writes into the image's io.openshift.s2i.build.source-location label,
// loses any user and password a git URL carries.
type guarded struct{ inner build.Downloader }

// Download implements S2I's build.Downloader.
func (g guarded) Download(cfg *api.Config) (*git.SourceInfo, error) {
	info, err := g.inner.Download(cfg)
	if err != nil {
		return nil, err
	}
	if err := source.Sanitize(cfg.WorkingSourceDir); err != nil {
		return nil, fmt.Errorf("preparing the source for s2i: %w", err)
	}
	if info != nil {
		info.Location = source.Redact(info.Location)
	}
	return info, nil
}
