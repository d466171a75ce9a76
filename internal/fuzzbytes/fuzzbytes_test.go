package fuzzbytes

import "testing"

// TestReader: bytes come in order, numbers stay in range, raw text takes the length
// its first byte gives (as much as is left), and a used-up input reads as zeros.
func TestReader(t *testing.T) {
	r := New([]byte{7, 13, 3, 'a', 'b', 'c', 'd', 9, 'x'})
	if got := r.Byte(); got != 7 {
		t.Fatalf("Byte() = %d, want 7", got)
	}
	if got := r.N(5); got != 3 {
		t.Fatalf("N(5) of 13 = %d, want 3", got)
	}
	if got := r.Raw(); got != "abc" {
		t.Fatalf("Raw() = %q, want abc", got)
	}
	if got := r.Raw(); got != "\tx" {
		t.Fatalf("Raw() of length 'd' with 2 bytes left = %q, want them both", got)
	}
	if !r.Empty() || r.Byte() != 0 || r.Uint64() != 0 {
		t.Fatal("a used-up input does not read as zeros")
	}
}
