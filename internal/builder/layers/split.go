package layers

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rust-s2i/rust-s2i-musl/internal/ctxio"
)

// Epoch is the time every entry's mtime is clamped to, and the image's creation
// time: the Unix epoch, as ko and other reproducible builds use. Clamped, a part
// is the same bytes whenever its files are, so a rebuilt step whose files did not
// change yields the same layer digest, and a runner that has it pulls nothing.
// Nothing in the builder reads these times: cargo's freshness checks compare the
// files a build writes, not the toolchain's.
func Epoch() time.Time { return time.Unix(0, 0).UTC() }

// Set is a filesystem split into parts, each compressed both ways, in files of a
// temporary directory that Close removes.
type Set struct {
	Layers []Layer // the parts that have entries, in the parts' order
	dir    string
}

// Layer is one non-empty part.
type Layer struct {
	Part   string
	Files  int     // entries other than directories
	Bytes  int64   // the regular files' sizes, unpacked
	DiffID v1.Hash // the uncompressed tar's digest, the same for both blobs
	Gzip   Blob
	Zstd   Blob
}

// Blob is a compressed layer's file. Its digest is taken while it is written, so
// that assembling and pushing the image read each file once, to upload it.
type Blob struct {
	Path   string
	Size   int64
	Digest v1.Hash
}

// Close removes the set's files.
func (s *Set) Close() error {
	if s == nil || s.dir == "" {
		return nil
	}
	return os.RemoveAll(s.dir)
}

// Split reads a flattened filesystem (a container's export) from r and splits it
// into parts (see Parts), in a new directory below tmp ("" is the system's).
// Entries keep the export's order within their part; a hard link goes to its
// target's part, since a layer's hard link can only name a file of that layer.
// On error nothing is left behind.
func Split(ctx context.Context, r io.Reader, parts []Part, tmp string) (_ *Set, err error) {
	m, err := newMatcher(parts)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tmp, "builder-layers-")
	if err != nil {
		return nil, fmt.Errorf("splitting into layers: %w", err)
	}
	s := &Set{dir: dir}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	writers := make([]*partWriter, len(parts))
	for i, p := range parts {
		if writers[i], err = newPartWriter(filepath.Join(dir, fmt.Sprintf("%02d-%s.tar", i, p.Name))); err != nil {
			return nil, fmt.Errorf("splitting into layers: %w", err)
		}
	}
	defer func() {
		for _, w := range writers {
			err = errors.Join(err, w.close())
		}
	}()
	if err := split(ctx, r, m, writers); err != nil {
		return nil, fmt.Errorf("splitting into layers: %w", err)
	}
	for i, w := range writers {
		if err := w.close(); err != nil {
			return nil, fmt.Errorf("splitting into layers: %w", err)
		}
		if w.files+w.dirs > 0 {
			s.Layers = append(s.Layers, Layer{Part: parts[i].Name, Files: w.files, Bytes: w.bytes, DiffID: w.diffID(),
				Gzip: Blob{Path: w.path + ".gz"}, Zstd: Blob{Path: w.path + ".zst"}})
		}
	}
	if err := s.compress(ctx); err != nil {
		return nil, fmt.Errorf("compressing layers: %w", err)
	}
	for _, w := range writers {
		os.Remove(w.path) // only the compressed files are read from now on
	}
	return s, nil
}

// split copies each entry of r to its part's writer.
func split(ctx context.Context, r io.Reader, m matcher, writers []*partWriter) error {
	tr := tar.NewReader(r)
	partOf := map[string]int{} // the part of every entry but directories, for hard links
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the filesystem: %w", err)
		}
		name := cleanName(h.Name)
		if skip(name) {
			continue
		}
		part := m.part(name)
		if h.Typeflag == tar.TypeLink {
			target := cleanName(h.Linkname)
			p, ok := partOf[target]
			if !ok {
				return fmt.Errorf("hard link %s: its target %s is not an earlier file", name, target)
			}
			part = p
		}
		if h.Typeflag != tar.TypeDir {
			partOf[name] = part
		}
		if err := writers[part].add(clamped(h, name), tr); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
}

// cleanName is an entry's name as the rules see it: relative, no ./ or trailing
// slash.
func cleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// skip reports whether an entry of the export stays out of the image: the root
// itself, and .dockerenv, the marker the daemon adds to every container, which
// would tell a tool that it runs in Docker wherever the builder runs. The rest of
// what the container's init layer adds is harmless, and so kept: /etc/hosts,
// /etc/hostname and /etc/resolv.conf are empty files there (over the image's own,
// if it had any), and /dev/console, /dev/pts, /dev/shm, /proc and /sys are empty;
// every runtime mounts its own over all of them when it starts a container, so
// what the image holds there is never seen.
func skip(name string) bool { return name == "" || name == ".dockerenv" }

// clamped is h named name, its mtime clamped to Epoch, carrying only what a layer
// needs to restore the file: the access and change times would change the bytes
// at every export, and of the PAX records only the extended attributes (file
// capabilities live there) mean anything to an extractor.
func clamped(h *tar.Header, name string) *tar.Header {
	out := &tar.Header{
		Typeflag: h.Typeflag,
		Name:     name,
		Linkname: h.Linkname,
		Size:     h.Size,
		Mode:     h.Mode,
		Uid:      h.Uid,
		Gid:      h.Gid,
		Uname:    h.Uname,
		Gname:    h.Gname,
		ModTime:  h.ModTime.Truncate(time.Second),
		Devmajor: h.Devmajor,
		Devminor: h.Devminor,
	}
	if h.Typeflag == tar.TypeDir {
		out.Name += "/"
	}
	if h.Typeflag == tar.TypeLink {
		out.Linkname = cleanName(h.Linkname)
	}
	if epoch := Epoch(); out.ModTime.After(epoch) {
		out.ModTime = epoch
	}
	for k, v := range h.PAXRecords {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			if out.PAXRecords == nil {
				out.PAXRecords = map[string]string{}
			}
			out.PAXRecords[k] = v
		}
	}
	return out
}

// partWriter writes one part's tar file, and its digest.
type partWriter struct {
	path  string
	f     *os.File
	buf   *bufio.Writer
	tw    *tar.Writer
	sum   hash.Hash
	files int
	dirs  int
	bytes int64
}

func newPartWriter(path string) (*partWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.New()
	buf := bufio.NewWriterSize(io.MultiWriter(f, sum), 1<<20)
	return &partWriter{path: path, f: f, buf: buf, tw: tar.NewWriter(buf), sum: sum}, nil
}

// diffID is the digest of the tar written, once closed.
func (w *partWriter) diffID() v1.Hash { return sha256Hash(w.sum) }

func sha256Hash(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

func (w *partWriter) add(h *tar.Header, body io.Reader) error {
	if err := w.tw.WriteHeader(h); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		w.dirs++
	case tar.TypeReg:
		w.files++
		w.bytes += h.Size
	default:
		w.files++
	}
	if h.Typeflag == tar.TypeReg && h.Size > 0 {
		if _, err := io.CopyN(w.tw, body, h.Size); err != nil {
			return err
		}
	}
	return nil
}

// close finishes the tar file; a second call does nothing.
func (w *partWriter) close() error {
	if w == nil || w.f == nil {
		return nil
	}
	err := errors.Join(w.tw.Close(), w.buf.Flush())
	err = errors.Join(err, w.f.Close())
	w.f = nil
	return err
}

// compress writes each layer's tar compressed both ways, the layers and the two
// compressions side by side on every core: at the best levels, the one long part
// of a push of an unchanged builder. Each stream is compressed on one goroutine,
// whose output, unlike zstd's concurrent blocks, depends on nothing but the input.
func (s *Set) compress(ctx context.Context) error {
	type job struct {
		src string
		dst *Blob
		enc func(io.Writer) (io.WriteCloser, error)
	}
	var jobs []job
	for i := range s.Layers {
		l := &s.Layers[i]
		src := strings.TrimSuffix(l.Gzip.Path, ".gz")
		jobs = append(jobs, job{src, &l.Gzip, gzipWriter}, job{src, &l.Zstd, zstdWriter})
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = compressFile(ctx, j.src, j.dst, j.enc)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// gzipWriter compresses at the best level: the builder is pushed once and pulled
// by every runner. Its header names no file and no time.
func gzipWriter(w io.Writer) (io.WriteCloser, error) {
	return gzip.NewWriterLevel(w, gzip.BestCompression)
}

func zstdWriter(w io.Writer) (io.WriteCloser, error) {
	return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
}

// compressFile writes src compressed by enc to dst.Path and records its size.
func compressFile(ctx context.Context, src string, dst *Blob, enc func(io.Writer) (io.WriteCloser, error)) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst.Path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	sum := sha256.New()
	buf := bufio.NewWriterSize(io.MultiWriter(out, sum), 1<<20)
	cw, err := enc(buf)
	if err != nil {
		return err
	}
	if _, err := io.Copy(cw, ctxio.Reader(ctx, in)); err != nil {
		cw.Close()
		return fmt.Errorf("%s: %w", filepath.Base(dst.Path), err)
	}
	if err := errors.Join(cw.Close(), buf.Flush()); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(dst.Path), err)
	}
	st, err := out.Stat()
	if err != nil {
		return err
	}
	dst.Size, dst.Digest = st.Size(), sha256Hash(sum)
	return nil
}
