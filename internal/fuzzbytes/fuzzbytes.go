// Package fuzzbytes decodes fuzz inputs: the fuzz targets draw their choices from a
// Reader, so that any input, however short, decodes to something to test.
package fuzzbytes

import "encoding/binary"

// Reader hands out a fuzz input's bytes, then zeros once they run out.
type Reader struct{ data []byte }

// New reads data.
func New(data []byte) *Reader { return &Reader{data: data} }

// Byte returns the next byte, 0 once the input is used up.
func (r *Reader) Byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

// N returns a number in [0, k) from the next byte.
func (r *Reader) N(k int) int { return int(r.Byte()) % k }

// Uint64 returns a number from the next eight bytes, big-endian.
func (r *Reader) Uint64() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = r.Byte()
	}
	return binary.BigEndian.Uint64(b[:])
}

// Raw returns up to as many of the next bytes as the next byte says, as a string.
func (r *Reader) Raw() string {
	n := min(int(r.Byte()), len(r.data))
	s := string(r.data[:n])
	r.data = r.data[n:]
	return s
}

// Empty reports whether the input is used up.
func (r *Reader) Empty() bool { return len(r.data) == 0 }
