package controllers

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The packed encoding of the cache's copies of custom resources (see cachedResource).
//
// A decoded Membership is a 488-byte struct before any of its strings, most of its
// fields empty; a LearningEvent's attendance record is 48 bytes of string headers. The
// packed form writes only the fields that are set, each as its index in its struct
// and its value: a string as its length and bytes, an integer as a varint, a bool as a
// byte, a pointer, slice or map with a mark for nil, a metav1.Time as seconds,
// nanoseconds and location, a UID and a hexadecimal digest as the bytes they spell. It is the exact Go value: unpacking gives an object equal
// to the one packed (reflect.DeepEqual), including empty lists that are not nil, so a
// read from the cache gives what the API server's answer decoded to.
//
// The codec is built once per Go type, by reflection; a type it cannot encode exactly
// (an interface, a float, a time outside UTC and Local) makes packing fail, and the
// cache then keeps the object as decoded.

// fieldCodec encodes and decodes values of one Go type.
type fieldCodec struct {
	// prev is the value at the same place in the previous element of the list the
	// value is in, or not valid (see stringCodec).
	encode func(b []byte, v, prev reflect.Value) ([]byte, error)
	decode func(d *unpacker, v, prev reflect.Value) error
}

// packCodecs are the codecs by Go type, built on first use.
var packCodecs sync.Map // reflect.Type -> *fieldCodec

var (
	timeType     = reflect.TypeFor[metav1.Time]()
	uidType      = reflect.TypeFor[types.UID]()
	errPackShort = errors.New("packed object is truncated")
)

// codecOf returns the codec of t, building it (and those of the types it holds) on
// first use.
func codecOf(t reflect.Type) (*fieldCodec, error) {
	if c, ok := packCodecs.Load(t); ok {
		return c.(*fieldCodec), nil
	}
	c, err := buildCodec(t, map[reflect.Type]bool{})
	if err != nil {
		return nil, err
	}
	actual, _ := packCodecs.LoadOrStore(t, c)
	return actual.(*fieldCodec), nil
}

func buildCodec(t reflect.Type, building map[reflect.Type]bool) (*fieldCodec, error) {
	if c, ok := packCodecs.Load(t); ok {
		return c.(*fieldCodec), nil
	}
	if building[t] {
		return nil, fmt.Errorf("packing %s: recursive types are not packed", t)
	}
	building[t] = true
	defer delete(building, t)
	switch t {
	case timeType:
		return timeCodec, nil
	case uidType:
		return uidCodec, nil
	}
	switch t.Kind() {
	case reflect.String:
		return stringCodec, nil
	case reflect.Bool:
		return boolCodec, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intCodec, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return uintCodec, nil
	case reflect.Pointer:
		return pointerCodec(t, building)
	case reflect.Slice:
		return sliceCodec(t, building)
	case reflect.Map:
		return mapCodec(t, building)
	case reflect.Struct:
		return structCodec(t, building)
	}
	return nil, fmt.Errorf("packing %s: a %s is not packed", t, t.Kind())
}

// structCodec writes each field that is set as its index plus one and its value, and
// a zero after the last.
func structCodec(t reflect.Type, building map[reflect.Type]bool) (*fieldCodec, error) {
	fields := make([]*fieldCodec, t.NumField())
	for i := range fields {
		f := t.Field(i)
		if !f.IsExported() {
			return nil, fmt.Errorf("packing %s: field %s is not exported", t, f.Name)
		}
		c, err := buildCodec(f.Type, building)
		if err != nil {
			return nil, err
		}
		fields[i] = c
	}
	return &fieldCodec{
		encode: func(b []byte, v, prev reflect.Value) ([]byte, error) {
			for i, c := range fields {
				f := v.Field(i)
				if f.IsZero() {
					continue
				}
				b = binary.AppendUvarint(b, uint64(i+1))
				var err error
				if b, err = c.encode(b, f, fieldOf(prev, i)); err != nil {
					return nil, err
				}
			}
			return append(b, 0), nil
		},
		decode: func(d *unpacker, v, prev reflect.Value) error {
			for {
				i, err := d.uvarint()
				if err != nil {
					return err
				}
				if i == 0 {
					return nil
				}
				if i > uint64(len(fields)) {
					return fmt.Errorf("packed %s has no field %d", t, i)
				}
				if err := fields[i-1].decode(d, v.Field(int(i-1)), fieldOf(prev, int(i-1))); err != nil {
					return err
				}
			}
		},
	}, nil
}

// pointerCodec writes a pointer as 0 for nil or 1 and the value it points to.
func pointerCodec(t reflect.Type, building map[reflect.Type]bool) (*fieldCodec, error) {
	elem, err := buildCodec(t.Elem(), building)
	if err != nil {
		return nil, err
	}
	return &fieldCodec{
		encode: func(b []byte, v, prev reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(b, 0), nil
			}
			return elem.encode(append(b, 1), v.Elem(), pointee(prev))
		},
		decode: func(d *unpacker, v, prev reflect.Value) error {
			set, err := d.byte()
			if err != nil || set == 0 {
				return err
			}
			p := reflect.New(t.Elem())
			if err := elem.decode(d, p.Elem(), pointee(prev)); err != nil {
				return err
			}
			v.Set(p)
			return nil
		},
	}, nil
}

// sliceCodec writes a slice as 0 for nil or its length plus one and its elements; a
// []byte as its bytes.
func sliceCodec(t reflect.Type, building map[reflect.Type]bool) (*fieldCodec, error) {
	if t.Elem().Kind() == reflect.Uint8 {
		return &fieldCodec{
			encode: func(b []byte, v, prev reflect.Value) ([]byte, error) {
				if v.IsNil() {
					return append(b, 0), nil
				}
				b = binary.AppendUvarint(b, uint64(v.Len())+1)
				return append(b, v.Bytes()...), nil
			},
			decode: func(d *unpacker, v, prev reflect.Value) error {
				n, err := d.length()
				if err != nil || n < 0 {
					return err
				}
				raw, err := d.next(n)
				if err != nil {
					return err
				}
				s := reflect.MakeSlice(t, n, n)
				copy(s.Bytes(), raw)
				v.Set(s)
				return nil
			},
		}, nil
	}
	elem, err := buildCodec(t.Elem(), building)
	if err != nil {
		return nil, err
	}
	return &fieldCodec{
		encode: func(b []byte, v, prev reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(b, 0), nil
			}
			b = binary.AppendUvarint(b, uint64(v.Len())+1)
			for i := range v.Len() {
				var err error
				if b, err = elem.encode(b, v.Index(i), elementBefore(v, i)); err != nil {
					return nil, err
				}
			}
			return b, nil
		},
		decode: func(d *unpacker, v, prev reflect.Value) error {
			n, err := d.length()
			if err != nil || n < 0 {
				return err
			}
			s := reflect.MakeSlice(t, n, n)
			for i := range n {
				if err := elem.decode(d, s.Index(i), elementBefore(s, i)); err != nil {
					return err
				}
			}
			v.Set(s)
			return nil
		},
	}, nil
}

// mapCodec writes a map as 0 for nil or its length plus one and its keys and values.
func mapCodec(t reflect.Type, building map[reflect.Type]bool) (*fieldCodec, error) {
	key, err := buildCodec(t.Key(), building)
	if err != nil {
		return nil, err
	}
	value, err := buildCodec(t.Elem(), building)
	if err != nil {
		return nil, err
	}
	return &fieldCodec{
		encode: func(b []byte, v, prev reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(b, 0), nil
			}
			b = binary.AppendUvarint(b, uint64(v.Len())+1)
			// In key order, so that equal objects pack to equal bytes.
			keys := v.MapKeys()
			if t.Key().Kind() == reflect.String {
				slices.SortFunc(keys, func(x, y reflect.Value) int { return cmp.Compare(x.String(), y.String()) })
			}
			for _, k := range keys {
				var err error
				if b, err = key.encode(b, k, reflect.Value{}); err != nil {
					return nil, err
				}
				if b, err = value.encode(b, v.MapIndex(k), reflect.Value{}); err != nil {
					return nil, err
				}
			}
			return b, nil
		},
		decode: func(d *unpacker, v, prev reflect.Value) error {
			n, err := d.length()
			if err != nil || n < 0 {
				return err
			}
			m := reflect.MakeMapWithSize(t, n)
			k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			for range n {
				k.SetZero()
				e.SetZero()
				if err := key.decode(d, k, reflect.Value{}); err != nil {
					return err
				}
				if err := value.decode(d, e, reflect.Value{}); err != nil {
					return err
				}
				m.SetMapIndex(k, e)
			}
			v.Set(m)
			return nil
		},
	}, nil
}

// stringCodec writes a string as a header, its length times four plus its form, and
// then by form: its bytes; for a digest in lowercase hexadecimal (an event's content
// and calendar hashes), the bytes it spells, half as many; for a string that begins as
// the one at the same place in the previous element of its list did (an attendance
// record's membership, named after the cohort, and its status), the length of the
// prefix they share and the rest of its bytes.
var stringCodec = &fieldCodec{
	encode: func(b []byte, v, prev reflect.Value) ([]byte, error) {
		s := v.String()
		if prev.IsValid() {
			if shared := commonPrefix(prev.String(), s); shared >= 2 {
				b = binary.AppendUvarint(b, uint64(len(s)-shared)<<2|stringShared)
				b = binary.AppendUvarint(b, uint64(shared))
				return append(b, s[shared:]...), nil
			}
		}
		if isHexDigest(s) {
			b = binary.AppendUvarint(b, uint64(len(s))<<2|stringHex)
			return hex.AppendDecode(b, []byte(s))
		}
		return append(binary.AppendUvarint(b, uint64(len(s))<<2|stringPlain), s...), nil
	},
	decode: func(d *unpacker, v, prev reflect.Value) error {
		header, err := d.uvarint()
		if err != nil {
			return err
		}
		n := int(min(header>>2, uint64(len(d.data)+1)*2))
		switch header & 3 {
		case stringPlain:
			raw, err := d.next(n)
			if err != nil {
				return err
			}
			v.SetString(string(raw))
		case stringHex:
			raw, err := d.next(n / 2)
			if err != nil {
				return err
			}
			v.SetString(hex.EncodeToString(raw))
		case stringShared:
			shared, err := d.uvarint()
			if err != nil {
				return err
			}
			if !prev.IsValid() || shared > uint64(len(prev.String())) {
				return fmt.Errorf("packed string shares %d bytes with a string before it of %d", shared, len(prev.String()))
			}
			raw, err := d.next(n)
			if err != nil {
				return err
			}
			v.SetString(prev.String()[:shared] + string(raw))
		default:
			return fmt.Errorf("packed string has form %d", header&3)
		}
		return nil
	},
}

// The forms of a packed string.
const (
	stringPlain  = 0
	stringHex    = 1
	stringShared = 2
)

// commonPrefix is the length of the prefix a and b share.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// fieldOf is field i of prev, a struct, or not valid when prev is not.
func fieldOf(prev reflect.Value, i int) reflect.Value {
	if !prev.IsValid() {
		return prev
	}
	return prev.Field(i)
}

// pointee is what prev points to, or not valid when prev is not or is nil.
func pointee(prev reflect.Value) reflect.Value {
	if !prev.IsValid() || prev.IsNil() {
		return reflect.Value{}
	}
	return prev.Elem()
}

// elementBefore is element i-1 of list, or not valid for the first.
func elementBefore(list reflect.Value, i int) reflect.Value {
	if i == 0 {
		return reflect.Value{}
	}
	return list.Index(i - 1)
}

// isHexDigest reports whether s is at least 16 lowercase hexadecimal digits, an even
// number of them.
func isHexDigest(s string) bool {
	if len(s) < 16 || len(s)%2 != 0 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// uidCodec writes a UID in the form the API server writes them as a mark and its 16
// bytes; any other as a mark and the string.
var uidCodec = &fieldCodec{
	encode: func(b []byte, v, prev reflect.Value) ([]byte, error) {
		s := v.String()
		if id, err := uuid.Parse(s); err == nil && id.String() == s {
			return append(append(b, 1), id[:]...), nil
		}
		return stringCodec.encode(append(b, 0), v, reflect.Value{})
	},
	decode: func(d *unpacker, v, prev reflect.Value) error {
		form, err := d.byte()
		if err != nil {
			return err
		}
		if form == 0 {
			return stringCodec.decode(d, v, reflect.Value{})
		}
		raw, err := d.next(len(uuid.UUID{}))
		if err != nil {
			return err
		}
		v.SetString(uuid.UUID(raw).String())
		return nil
	},
}

var boolCodec = &fieldCodec{
	encode: func(b []byte, v, prev reflect.Value) ([]byte, error) {
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	},
	decode: func(d *unpacker, v, prev reflect.Value) error {
		c, err := d.byte()
		v.SetBool(c != 0)
		return err
	},
}

var intCodec = &fieldCodec{
	encode: func(b []byte, v, prev reflect.Value) ([]byte, error) { return binary.AppendVarint(b, v.Int()), nil },
	decode: func(d *unpacker, v, prev reflect.Value) error {
		n, w := binary.Varint(d.data)
		if w <= 0 {
			return errPackShort
		}
		d.data = d.data[w:]
		if v.OverflowInt(n) {
			return fmt.Errorf("packed %d overflows a %s", n, v.Type())
		}
		v.SetInt(n)
		return nil
	},
}

var uintCodec = &fieldCodec{
	encode: func(b []byte, v, prev reflect.Value) ([]byte, error) { return binary.AppendUvarint(b, v.Uint()), nil },
	decode: func(d *unpacker, v, prev reflect.Value) error {
		n, err := d.uvarint()
		if err != nil {
			return err
		}
		if v.OverflowUint(n) {
			return fmt.Errorf("packed %d overflows a %s", n, v.Type())
		}
		v.SetUint(n)
		return nil
	},
}

// The location of a packed time: the API server's times decode in Local.
const (
	timeZero  = 0
	timeLocal = 1
	timeUTC   = 2
)

// timeCodec writes a metav1.Time as its location, and unless zero its seconds since
// the epoch and nanoseconds.
var timeCodec = &fieldCodec{
	encode: func(b []byte, v, prev reflect.Value) ([]byte, error) {
		t := v.Interface().(metav1.Time).Time
		switch {
		case t.IsZero() && t.Location() == time.UTC:
			return append(b, timeZero), nil
		case t.Location() == time.Local:
			b = append(b, timeLocal)
		case t.Location() == time.UTC:
			b = append(b, timeUTC)
		default:
			return nil, fmt.Errorf("packing a time in %s: only Local and UTC are packed", t.Location())
		}
		b = binary.AppendVarint(b, t.Unix())
		return binary.AppendUvarint(b, uint64(t.Nanosecond())), nil
	},
	decode: func(d *unpacker, v, prev reflect.Value) error {
		loc, err := d.byte()
		if err != nil || loc == timeZero {
			return err
		}
		sec, w := binary.Varint(d.data)
		if w <= 0 {
			return errPackShort
		}
		d.data = d.data[w:]
		nsec, err := d.uvarint()
		if err != nil {
			return err
		}
		t := time.Unix(sec, int64(nsec))
		switch loc {
		case timeLocal:
			t = t.Local()
		case timeUTC:
			t = t.UTC()
		default:
			return fmt.Errorf("packed time has location %d", loc)
		}
		v.Set(reflect.ValueOf(metav1.Time{Time: t}))
		return nil
	},
}

// unpacker reads a packed value.
type unpacker struct{ data []byte }

func (d *unpacker) uvarint() (uint64, error) {
	n, w := binary.Uvarint(d.data)
	if w <= 0 {
		return 0, errPackShort
	}
	d.data = d.data[w:]
	return n, nil
}

func (d *unpacker) byte() (byte, error) {
	if len(d.data) == 0 {
		return 0, errPackShort
	}
	c := d.data[0]
	d.data = d.data[1:]
	return c, nil
}

// length reads a slice's or map's length: -1 for nil.
func (d *unpacker) length() (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.data))+1 {
		// Every element takes at least a byte.
		return 0, errPackShort
	}
	return int(n) - 1, nil
}

func (d *unpacker) next(n int) ([]byte, error) {
	if n < 0 || n > len(d.data) {
		return nil, errPackShort
	}
	raw := d.data[:n]
	d.data = d.data[n:]
	return raw, nil
}
