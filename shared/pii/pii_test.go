package pii

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/booking"
)

func randKey(t testing.TB) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func secretJSON(primary string, keys map[string][]byte, idx []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"primary":%q,"keys":{`, primary)
	i := 0
	for id, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%q", id, base64.StdEncoding.EncodeToString(k))
		i++
	}
	fmt.Fprintf(&b, `},"index_key":%q}`, base64.StdEncoding.EncodeToString(idx))
	return []byte(b.String())
}

func TestSealOpenRoundTrip(t *testing.T) {
	kr := DevKeyring()
	aad := AAD("t1", "customers", "name_enc")
	for _, pt := range [][]byte{{}, []byte("Maria Rossi"), bytes.Repeat([]byte("Transkript "), 3000)} {
		ct, err := kr.Seal(pt, aad)
		if err != nil {
			t.Fatal(err)
		}
		if len(ct) != len(pt)+kr.Overhead() {
			t.Errorf("len(ct) = %d, want %d", len(ct), len(pt)+kr.Overhead())
		}
		if len(pt) > 4 && bytes.Contains(ct, pt[:5]) {
			t.Error("ciphertext contains plaintext")
		}
		got, err := kr.Open(ct, aad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, %v", got, err)
		}
	}
	a, _ := kr.Seal([]byte("same"), aad)
	b, _ := kr.Seal([]byte("same"), aad)
	if bytes.Equal(a, b) {
		t.Error("two seals of one value are equal: nonce not random")
	}
}

func TestRotation(t *testing.T) {
	k1, k2, idx := randKey(t), randKey(t), randKey(t)
	old, err := ParseKeyring(secretJSON("k1", map[string][]byte{"k1": k1}, idx))
	if err != nil {
		t.Fatal(err)
	}
	aad := AAD("t1", "calls", "transcript_enc", "call_1")
	ctOld, _ := old.Seal([]byte("alt"), aad)
	if KeyIDOf(ctOld) != "k1" {
		t.Fatalf("KeyIDOf = %q", KeyIDOf(ctOld))
	}

	rotated, err := ParseKeyring(secretJSON("k2", map[string][]byte{"k1": k1, "k2": k2}, idx))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.OpenString(ctOld, aad); err != nil || got != "alt" {
		t.Fatalf("old row after rotation: %q, %v", got, err)
	}
	ctNew, _ := rotated.Seal([]byte("neu"), aad)
	if KeyIDOf(ctNew) != "k2" {
		t.Fatalf("new ciphertext sealed with %q, want k2", KeyIDOf(ctNew))
	}
	if _, err := old.Open(ctNew, aad); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("old keyring opened a k2 ciphertext: %v", err)
	}
	if !bytes.Equal(old.Index(IndexPhone, "t1", "+4930123456"), rotated.Index(IndexPhone, "t1", "+4930123456")) {
		t.Error("blind index changed with rotation of encryption keys")
	}
	// Retiring k1 makes its rows unreadable: that is why keys are kept.
	retired, _ := ParseKeyring(secretJSON("k2", map[string][]byte{"k2": k2}, idx))
	if _, err := retired.Open(ctOld, aad); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("retired key still opens: %v", err)
	}
}

func TestTamperAndWrongAAD(t *testing.T) {
	kr := DevKeyring()
	aad := AAD("t1", "customers", "phone_enc")
	ct, _ := kr.Seal([]byte("+4930123456"), aad)
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		if _, err := kr.Open(bad, aad); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("flipping byte %d: err = %v", i, err)
		}
	}
	if _, err := kr.Open(ct[:len(ct)-1], aad); !errors.Is(err, ErrDecrypt) {
		t.Fatal("truncated ciphertext opened")
	}
	for _, other := range [][]byte{
		AAD("t2", "customers", "phone_enc"),
		AAD("t1", "customers", "email_enc"),
		AAD("t1", "calls", "phone_enc"),
		AAD("t1", "customers", "phone_enc", "7"),
		AAD("t1c", "ustomers", "phone_enc"),
		nil,
	} {
		if _, err := kr.Open(ct, other); !errors.Is(err, ErrDecrypt) {
			t.Errorf("opened with wrong aad %x: %v", other, err)
		}
		if booking.KindOf(func() error { _, err := kr.Open(ct, other); return err }()) != booking.KindInternal {
			t.Error("decrypt failure is not KindInternal")
		}
	}
	for _, junk := range [][]byte{nil, {}, {0x01}, {0x02, 1, 'x'}, {0x01, 0}, {0x01, 40, 'a'}} {
		if _, err := kr.Open(junk, aad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Open(%x) = %v", junk, err)
		}
	}
}

func TestStrings(t *testing.T) {
	kr := DevKeyring()
	aad := AAD("t", "x", "y")
	ct, err := kr.SealString("", aad)
	if err != nil || ct != nil {
		t.Fatalf("SealString(\"\") = %x, %v; want nil", ct, err)
	}
	if s, err := kr.OpenString(nil, aad); s != "" || err != nil {
		t.Fatalf("OpenString(nil) = %q, %v", s, err)
	}
	ct, _ = kr.SealString("Grüße", aad)
	if s, err := kr.OpenString(ct, aad); s != "Grüße" || err != nil {
		t.Fatalf("OpenString = %q, %v", s, err)
	}
}

func TestIndex(t *testing.T) {
	kr := DevKeyring()
	a := kr.Index(IndexPhone, "t1", "+49 30 123456")
	if len(a) != 32 {
		t.Fatalf("index length %d", len(a))
	}
	for _, same := range []string{"+4930123456", "030 123456", "0049 30 123456"} {
		if !bytes.Equal(a, kr.Index(IndexPhone, "t1", same)) {
			t.Errorf("%q indexes differently", same)
		}
	}
	if bytes.Equal(a, kr.Index(IndexPhone, "t2", "+4930123456")) {
		t.Error("index is not tenant-scoped")
	}
	if bytes.Equal(a, kr.Index(IndexEmail, "t1", "+4930123456")) {
		t.Error("index is not kind-scoped")
	}
	if bytes.Equal(a, kr.Index(IndexPhone, "t1", "+4930123457")) {
		t.Error("different numbers collide")
	}
	for _, none := range []string{"", "anonymous", "+266696687", "kein Anschluss"} {
		if idx := kr.Index(IndexPhone, "t1", none); idx != nil {
			t.Errorf("Index(phone, %q) = %x, want nil", none, idx)
		}
	}
	e := kr.Index(IndexEmail, "t1", " Maria.Rossi@Example.com ")
	if !bytes.Equal(e, kr.Index(IndexEmail, "t1", "maria.rossi@example.com")) {
		t.Error("email index not normalised")
	}
	other, _ := NewKeyring("a", map[string][]byte{"a": randKey(t)}, randKey(t))
	if bytes.Equal(a, other.Index(IndexPhone, "t1", "+4930123456")) {
		t.Error("index does not depend on the index key")
	}
}

func TestParseKeyringRejects(t *testing.T) {
	k := base64.StdEncoding.EncodeToString(make([]byte, 32))
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	k2 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	for name, js := range map[string]string{
		"not json":        `{`,
		"unknown field":   `{"primary":"a","keys":{"a":"` + k + `"},"index_key":"` + k2 + `","x":1}`,
		"no keys":         `{"primary":"a","keys":{},"index_key":"` + k2 + `"}`,
		"missing primary": `{"primary":"b","keys":{"a":"` + k + `"},"index_key":"` + k2 + `"}`,
		"short key":       `{"primary":"a","keys":{"a":"` + short + `"},"index_key":"` + k2 + `"}`,
		"bad base64":      `{"primary":"a","keys":{"a":"!!!"},"index_key":"` + k2 + `"}`,
		"no index key":    `{"primary":"a","keys":{"a":"` + k + `"}}`,
		"index = key":     `{"primary":"a","keys":{"a":"` + k + `"},"index_key":"` + k + `"}`,
		"bad key id":      `{"primary":"a b","keys":{"a b":"` + k + `"},"index_key":"` + k2 + `"}`,
	} {
		_, err := ParseKeyring([]byte(js))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if booking.KindOf(err) != booking.KindInvalid {
			t.Errorf("%s: kind %q", name, booking.KindOf(err))
		}
		if strings.Contains(err.Error(), k) || strings.Contains(err.Error(), k2) {
			t.Errorf("%s: error leaks key material", name)
		}
	}
}

func TestDevKeyring(t *testing.T) {
	if !DevKeyring().IsDev() {
		t.Fatal("DevKeyring().IsDev() = false")
	}
	kr, err := ParseKeyring(DevSecretJSON())
	if err != nil {
		t.Fatal(err)
	}
	if !kr.IsDev() {
		t.Error("dev secret parsed as a production keyring")
	}
	ct, _ := DevKeyring().Seal([]byte("x"), nil)
	if pt, err := kr.Open(ct, nil); err != nil || string(pt) != "x" {
		t.Fatalf("dev secret and dev keyring differ: %v", err)
	}
	prod, _ := NewKeyring("p", map[string][]byte{"p": randKey(t)}, randKey(t))
	if prod.IsDev() {
		t.Error("random keyring reports dev")
	}
}

func BenchmarkSeal30KB(b *testing.B) {
	kr := DevKeyring()
	pt := bytes.Repeat([]byte("Agent: Guten Tag. "), 30*1024/18)
	aad := AAD("tenant", "calls", "transcript_enc", "call_x")
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Seal(pt, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen30KB(b *testing.B) {
	kr := DevKeyring()
	pt := bytes.Repeat([]byte("Agent: Guten Tag. "), 30*1024/18)
	aad := AAD("tenant", "calls", "transcript_enc", "call_x")
	ct, _ := kr.Seal(pt, aad)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Open(ct, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealName(b *testing.B) {
	kr := DevKeyring()
	aad := AAD("tenant", "customers", "name_enc")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.SealString("Maria Rossi", aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndexPhone(b *testing.B) {
	kr := DevKeyring()
	b.ReportAllocs()
	for b.Loop() {
		if kr.Index(IndexPhone, "tenant", "+4930123456") == nil {
			b.Fatal("nil index")
		}
	}
}
