package s2i

import (
	"bytes"
	"encoding/binary"
	"io"
)

// divert passes a container's attach stream on unchanged (the daemon's multiplexed
// framing: an 8-byte header, stream and length, then the payload), except for the
// part of stdout from the line "TOKEN begin" to the line "TOKEN end": those bytes go
// to the sink, and the lines themselves go nowhere. assemble sends the binary that
// way (see collect.go); S2I, which logs stdout line by line, never sees it.
//
// Before that part, a line "TOKEN annotate REST" goes to annotate (REST without
// its newline) and not on: assemble's workflow commands for compile errors, which
// the build writes out itself once the runner takes commands again (see Annotation).
type divert struct {
	src        io.Reader
	begin, end []byte
	annotation []byte // "TOKEN annotate "
	// open is called at begin and returns where the bytes go; the sink is closed at
	// end, or with an error when the stream ends first.
	open func() io.WriteCloser
	// annotate, when set, is given each annotation line; without it they pass on.
	annotate func(line string)

	sink    io.WriteCloser
	state   int    // looking, diverting, done
	pending []byte // held back: it may be the start of a marker
	out     bytes.Buffer
	err     error
}

const (
	divertLooking = iota
	divertDiverting
	divertDone
)

func newDivert(src io.Reader, token string, open func() io.WriteCloser) *divert {
	return &divert{src: src, begin: []byte(token + " begin\n"), end: []byte(token + " end\n"),
		annotation: []byte(token + " annotate "), open: open}
}

func (d *divert) Read(p []byte) (int, error) {
	for d.out.Len() == 0 && d.err == nil {
		d.err = d.frame()
	}
	if d.out.Len() > 0 {
		return d.out.Read(p)
	}
	return 0, d.err
}

// frame reads one frame and queues what passes on.
func (d *divert) frame() error {
	var hdr [8]byte
	if _, err := io.ReadFull(d.src, hdr[:]); err != nil {
		d.finish()
		if err == io.ErrUnexpectedEOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	payload := make([]byte, binary.BigEndian.Uint32(hdr[4:]))
	if _, err := io.ReadFull(d.src, payload); err != nil {
		d.finish()
		return io.ErrUnexpectedEOF
	}
	if hdr[0] != 1 || d.state == divertDone && len(d.pending) == 0 { // not stdout, or nothing left to do
		d.out.Write(hdr[:])
		d.out.Write(payload)
		return nil
	}
	d.emit(hdr[0], d.stdout(payload))
	return nil
}

// stdout runs stdout's bytes through the markers and returns those that pass.
func (d *divert) stdout(payload []byte) []byte {
	data := append(d.pending, payload...)
	d.pending = nil
	var kept []byte
	for len(data) > 0 {
		switch d.state {
		case divertLooking:
			i := bytes.Index(data, d.begin)
			if a := d.annotationAt(data); a >= 0 && (i < 0 || a < i) {
				end := bytes.IndexByte(data[a:], '\n')
				if end < 0 { // the rest of the line is still to come
					kept = append(kept, data[:a]...)
					d.pending = append([]byte(nil), data[a:]...)
					return kept
				}
				kept = append(kept, data[:a]...)
				d.annotate(string(data[a+len(d.annotation) : a+end]))
				data = data[a+end+1:]
				continue
			}
			if i >= 0 {
				kept = append(kept, data[:i]...)
				data = data[i+len(d.begin):]
				d.sink = d.open()
				d.state = divertDiverting
				continue
			}
			n := len(data) - max(heldBack(data, d.begin), d.annotationHeldBack(data))
			kept = append(kept, data[:n]...)
			d.pending = append([]byte(nil), data[n:]...)
			return kept
		case divertDiverting:
			if i := bytes.Index(data, d.end); i >= 0 {
				_, _ = d.sink.Write(data[:i])
				d.sink.Close()
				d.sink = nil
				data = data[i+len(d.end):]
				d.state = divertDone
				continue
			}
			n := len(data) - heldBack(data, d.end)
			_, _ = d.sink.Write(data[:n])
			d.pending = append([]byte(nil), data[n:]...)
			return kept
		default:
			return append(kept, data...)
		}
	}
	return kept
}

// annotationAt is where the first annotation line starts in data, -1 for none or
// when annotations pass on.
func (d *divert) annotationAt(data []byte) int {
	if d.annotate == nil {
		return -1
	}
	return bytes.Index(data, d.annotation)
}

// annotationHeldBack is heldBack for the annotation marker, 0 when annotations pass on.
func (d *divert) annotationHeldBack(data []byte) int {
	if d.annotate == nil {
		return 0
	}
	return heldBack(data, d.annotation)
}

// heldBack is how many bytes at the end of data could start marker.
func heldBack(data, marker []byte) int {
	for k := min(len(marker)-1, len(data)); k > 0; k-- {
		if bytes.HasSuffix(data, marker[:k]) {
			return k
		}
	}
	return 0
}

func (d *divert) emit(stream byte, payload []byte) {
	if len(payload) == 0 {
		return
	}
	var hdr [8]byte
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
	d.out.Write(hdr[:])
	d.out.Write(payload)
}

// finish ends the stream: what was held back passes on, and a sink still open learns
// that its end never came.
func (d *divert) finish() {
	if d.sink != nil {
		if c, ok := d.sink.(interface{ CloseWithError(error) error }); ok {
			c.CloseWithError(io.ErrUnexpectedEOF)
		} else {
			d.sink.Close()
		}
		d.sink = nil
	} else if len(d.pending) > 0 {
		d.emit(1, d.pending)
	}
	d.pending = nil
	d.state = divertDone
}
