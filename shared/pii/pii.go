// Package pii encrypts personal data at rest and computes blind indexes for
// equality lookups on encrypted columns.
//
// # Ciphertext format (version 1)
//
//	byte 0      version (0x01)
//	byte 1      n = length of the key id (1..32)
//	bytes 2..   key id (n bytes, ASCII [A-Za-z0-9_.-])
//	next 12     GCM nonce (random)
//	rest        AES-256-GCM ciphertext || 16-byte tag
//
// The GCM additional data is header || aad, where header is the version
// byte, the id length and the key id: changing any header byte, the nonce,
// the ciphertext or the caller's aad makes Open fail. Because the key id is in
// every ciphertext, a new primary key can be added to the keyring and old
// rows keep opening with the key that sealed them; rotation never rewrites
// rows (a background re-encryption may, at leisure).
//
// # Crypto-shredding (planned, not built)
//
// Per-customer erasure will add version 0x02: header = 0x02 | n | key id |
// m | subject key id, where the subject key is a random per-customer data key
// stored wrapped (sealed with this keyring, version 1) in its own table.
// Destroying the wrapped subject key makes every version-2 value of that
// customer unreadable while version-1 values stay readable. Open dispatches
// on the version byte, so both versions coexist in one column.
//
// # Key secret (JSON, from Secrets Manager or PII_KEYS locally)
//
//	{
//	  "primary":   "k2",                         // key id used by Seal
//	  "keys":      {"k1": "<base64 32 bytes>",    // every key that may still
//	                "k2": "<base64 32 bytes>"},   //   be needed by Open
//	  "index_key": "<base64 32 bytes>"            // HMAC key of blind indexes
//	}
//
// Keys are standard or URL base64 (padding optional) of exactly 32 random
// bytes. The index key must differ from every encryption key and is never
// rotated casually: changing it changes every blind index, so lookups would
// miss until all rows are re-indexed.
package pii

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/telefonagent/gateway/shared/booking"
	"github.com/telefonagent/gateway/shared/phone"
)

const (
	version1  = 0x01
	keySize   = 32
	nonceSize = 12
	tagSize   = 16
	maxIDLen  = 32
)

// ErrDecrypt is wrapped by every Open failure: wrong key, wrong aad,
// tampered bytes or an unknown key id all look the same to callers.
var ErrDecrypt = errors.New("pii: cannot decrypt")

// Keyring holds the encryption keys by id, the primary key id used for new
// ciphertexts, and the blind-index key. It is safe for concurrent use.
type Keyring struct {
	primary  string
	aeads    map[string]cipher.AEAD
	indexKey []byte
	dev      bool
}

// Secret is the JSON form of a keyring (see the package comment).
type Secret struct {
	Primary  string            `json:"primary"`
	Keys     map[string]string `json:"keys"`
	IndexKey string            `json:"index_key"`
}

// ParseKeyring reads a keyring from its JSON secret. Errors never contain
// key material.
func ParseKeyring(secretJSON []byte) (*Keyring, error) {
	const op = "pii.ParseKeyring"
	var s Secret
	dec := json.NewDecoder(bytes.NewReader(secretJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, booking.Errorf(booking.KindInvalid, op, "key secret is not valid JSON of the documented shape")
	}
	keys := make(map[string][]byte, len(s.Keys))
	for id, enc := range s.Keys {
		k, err := decodeKey(enc)
		if err != nil {
			return nil, booking.Errorf(booking.KindInvalid, op, "key %q: %v", id, err)
		}
		keys[id] = k
	}
	idx, err := decodeKey(s.IndexKey)
	if err != nil {
		return nil, booking.Errorf(booking.KindInvalid, op, "index_key: %v", err)
	}
	kr, err := NewKeyring(s.Primary, keys, idx)
	if err != nil {
		return nil, err
	}
	// The dev keys pasted into a secret are still dev keys.
	kr.dev = subtle.ConstantTimeCompare(idx, devKey("index")) == 1
	return kr, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != keySize {
				return nil, fmt.Errorf("must be %d bytes, is %d", keySize, len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("not base64")
}

// NewKeyring builds a keyring from raw keys. primary must be one of keys.
func NewKeyring(primary string, keys map[string][]byte, indexKey []byte) (*Keyring, error) {
	const op = "pii.NewKeyring"
	if len(keys) == 0 {
		return nil, booking.Errorf(booking.KindInvalid, op, "no encryption keys")
	}
	if _, ok := keys[primary]; !ok {
		return nil, booking.Errorf(booking.KindInvalid, op, "primary key id %q is not among the keys", primary)
	}
	if len(indexKey) != keySize {
		return nil, booking.Errorf(booking.KindInvalid, op, "index key must be %d bytes", keySize)
	}
	kr := &Keyring{primary: primary, aeads: make(map[string]cipher.AEAD, len(keys)), indexKey: append([]byte(nil), indexKey...)}
	for id, k := range keys {
		if !validKeyID(id) {
			return nil, booking.Errorf(booking.KindInvalid, op, "key id must be 1..%d characters of [A-Za-z0-9_.-]", maxIDLen)
		}
		if len(k) != keySize {
			return nil, booking.Errorf(booking.KindInvalid, op, "key %q must be %d bytes", id, keySize)
		}
		if subtle.ConstantTimeCompare(k, indexKey) == 1 {
			return nil, booking.Errorf(booking.KindInvalid, op, "index key must differ from key %q", id)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, booking.Wrap(booking.KindInternal, op, err, "aes")
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, booking.Wrap(booking.KindInternal, op, err, "gcm")
		}
		kr.aeads[id] = aead
	}
	return kr, nil
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Primary returns the id of the key new ciphertexts are sealed with.
func (k *Keyring) Primary() string { return k.primary }

// KeyIDs lists every key id the keyring can open, sorted.
func (k *Keyring) KeyIDs() []string {
	ids := make([]string, 0, len(k.aeads))
	for id := range k.aeads {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// IsDev reports whether this is the fixed development keyring; production
// wiring must refuse it.
func (k *Keyring) IsDev() bool { return k.dev }

// Overhead is the number of bytes Seal adds to a plaintext with the current
// primary key.
func (k *Keyring) Overhead() int { return 2 + len(k.primary) + nonceSize + tagSize }

// Seal encrypts plaintext with the primary key, binding it to aad (use AAD to
// build it). A nil or empty plaintext is still sealed (it is a value).
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	aead := k.aeads[k.primary]
	hdrLen := 2 + len(k.primary)
	out := make([]byte, hdrLen+nonceSize, hdrLen+nonceSize+len(plaintext)+tagSize)
	out[0] = version1
	out[1] = byte(len(k.primary))
	copy(out[2:], k.primary)
	nonce := out[hdrLen : hdrLen+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, booking.Wrap(booking.KindInternal, "pii.Seal", err, "random nonce")
	}
	ad := additionalData(out[:hdrLen], aad)
	return aead.Seal(out, nonce, plaintext, ad), nil
}

// Open decrypts a ciphertext made by Seal with any key of the ring and the
// same aad. Every failure is KindInternal wrapping ErrDecrypt (stored data
// that does not open is a bug or tampering, never the caller's fault).
func (k *Keyring) Open(ct, aad []byte) ([]byte, error) {
	const op = "pii.Open"
	if len(ct) < 2 || ct[0] != version1 {
		return nil, booking.Wrap(booking.KindInternal, op, ErrDecrypt, "unknown ciphertext version")
	}
	n := int(ct[1])
	hdrLen := 2 + n
	if n == 0 || len(ct) < hdrLen+nonceSize+tagSize {
		return nil, booking.Wrap(booking.KindInternal, op, ErrDecrypt, "ciphertext too short")
	}
	aead, ok := k.aeads[string(ct[2:hdrLen])]
	if !ok {
		return nil, booking.Wrap(booking.KindInternal, op, ErrDecrypt, "key id not in keyring")
	}
	nonce := ct[hdrLen : hdrLen+nonceSize]
	pt, err := aead.Open(nil, nonce, ct[hdrLen+nonceSize:], additionalData(ct[:hdrLen], aad))
	if err != nil {
		return nil, booking.Wrap(booking.KindInternal, op, ErrDecrypt, "authentication failed")
	}
	return pt, nil
}

// KeyIDOf returns the key id a ciphertext was sealed with ("" if malformed),
// e.g. to find rows still sealed with a retired key.
func KeyIDOf(ct []byte) string {
	if len(ct) < 2 || ct[0] != version1 || len(ct) < 2+int(ct[1]) {
		return ""
	}
	return string(ct[2 : 2+int(ct[1])])
}

func additionalData(header, aad []byte) []byte {
	ad := make([]byte, 0, len(header)+len(aad))
	ad = append(ad, header...)
	return append(ad, aad...)
}

// SealString seals a string; "" becomes nil (stored as NULL: nothing to hide).
func (k *Keyring) SealString(s string, aad []byte) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return k.Seal([]byte(s), aad)
}

// OpenString opens what SealString made; nil or empty ciphertext is "".
func (k *Keyring) OpenString(ct, aad []byte) (string, error) {
	if len(ct) == 0 {
		return "", nil
	}
	pt, err := k.Open(ct, aad)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// AAD builds the additional data that binds a ciphertext to where it is
// stored: tenant, table, column and, where the row key is known before the
// write, the row key. Each part is length-prefixed so ("ab","c") and
// ("a","bc") differ.
func AAD(tenant, table, column string, rowKey ...string) []byte {
	size := 4 * (3 + len(rowKey))
	size += len(tenant) + len(table) + len(column)
	for _, r := range rowKey {
		size += len(r)
	}
	b := make([]byte, 0, size)
	for _, p := range append([]string{tenant, table, column}, rowKey...) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// Blind index kinds. Each normalises its value before hashing so that
// equal values in different spellings find each other.
const (
	IndexPhone = "phone" // E.164 via shared/phone (DE default region)
	IndexEmail = "email" // trimmed, lower-cased
)

// Normalize returns the canonical form of value for an index kind, and false
// when there is nothing to index (empty, anonymous or not a phone number).
func Normalize(kind, value string) (string, bool) {
	switch kind {
	case IndexPhone:
		// Fast path: callers (the Store) pass numbers already normalised, and
		// parsing costs ~15 µs. A string of E.164 shape is its own canonical
		// form; only the keypad spellings of "anonymous" must still be refused.
		if e164Shape(value) {
			return value, !phone.IsAnonymous(value)
		}
		e164, err := phone.NormalizeE164(value, phone.DefaultRegion)
		if err != nil {
			return "", false
		}
		return e164, true
	case IndexEmail:
		v := strings.ToLower(strings.TrimSpace(value))
		return v, v != ""
	default:
		v := strings.TrimSpace(value)
		return v, v != ""
	}
}

// Index returns the blind index of value: HMAC-SHA256 under the index key
// over (kind, tenant, normalised value), 32 bytes. The tenant is part of
// the input, so the same phone number has unrelated indexes in two tenants.
// It returns nil when there is nothing to index (see Normalize): store NULL
// and never look up by it.
func (k *Keyring) Index(kind, tenant, value string) []byte {
	norm, ok := Normalize(kind, value)
	if !ok {
		return nil
	}
	m := hmac.New(sha256.New, k.indexKey)
	var lenBuf [4]byte
	for _, p := range []string{"idx1", kind, tenant, norm} {
		binary.BigEndian.PutUint32(lenBuf[:], uint32(len(p)))
		m.Write(lenBuf[:])
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// DevKeyring returns a keyring with fixed, publicly known keys.
//
// DEV ONLY: these keys are in the source code. Use them for tests and the
// local dev gateway, never for real personal data; IsDev reports true so
// production wiring can refuse it.
func DevKeyring() *Keyring {
	kr, err := NewKeyring("dev1", map[string][]byte{"dev1": devKey("dev1")}, devKey("index"))
	if err != nil {
		panic(err)
	}
	kr.dev = true
	return kr
}

// DevSecretJSON is DevKeyring in the secret's JSON form (DEV ONLY), handy for
// a local PII_KEYS variable.
func DevSecretJSON() []byte {
	b64 := base64.StdEncoding.EncodeToString
	b, _ := json.Marshal(Secret{Primary: "dev1", Keys: map[string]string{"dev1": b64(devKey("dev1"))}, IndexKey: b64(devKey("index"))})
	return b
}

// devKey derives a DEV-ONLY key from a public label.
func devKey(label string) []byte {
	s := sha256.Sum256([]byte("telefonagent DEV-ONLY NOT SECRET " + label))
	return s[:]
}

// e164Shape reports "+" followed by 7..15 digits, the first not 0.
func e164Shape(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
