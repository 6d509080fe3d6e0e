package run

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// errNoReader ends a stream that every node stopped reading.
var errNoReader = errors.New("every node stopped reading the upload")

// broadcast copies one stream to several readers, each behind a queue of
// its own: the writer goes at the pace of the slowest reader, and a reader
// that stops (its node failed) is dropped without holding the rest back.
type broadcast struct {
	readers []*castReader
	err     error // why the stream ended; readers see it once their queue is closed
}

func newBroadcast(n int) *broadcast {
	b := &broadcast{}
	for range n {
		// Four chunks of slack: a node's SSH window drains in bursts.
		b.readers = append(b.readers, &castReader{b: b, ch: make(chan []byte, 4), gone: make(chan struct{}), live: true})
	}
	return b
}

// Write queues a copy of p for every reader still reading.
func (b *broadcast) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	chunk := bytes.Clone(p)
	live := 0
	for _, r := range b.readers {
		if !r.live {
			continue
		}
		select {
		case r.ch <- chunk:
			live++
		case <-r.gone:
			r.live = false
		}
	}
	if live == 0 {
		return 0, errNoReader
	}
	return len(p), nil
}

// closeWithError ends the stream: readers get err, or io.EOF if it is nil,
// once they have read what was queued.
func (b *broadcast) closeWithError(err error) {
	b.err = err
	for _, r := range b.readers {
		close(r.ch)
	}
}

// castReader is one node's end of a broadcast.
type castReader struct {
	b    *broadcast
	ch   chan []byte
	buf  []byte
	live bool // the writer's view: false once gone was seen

	once sync.Once
	gone chan struct{}
}

// Read returns what the writer queued, then its error or io.EOF.
func (r *castReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		chunk, ok := <-r.ch
		if !ok {
			if r.b.err != nil {
				return 0, r.b.err
			}
			return 0, io.EOF
		}
		r.buf = chunk
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// stop tells the writer that this reader reads no more.
func (r *castReader) stop() {
	r.once.Do(func() { close(r.gone) })
}
