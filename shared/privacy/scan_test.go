package privacy_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/telefonagent/gateway/shared/pii"
)

// sealed lists every ciphertext column of the schema and how its AAD is
// built; dumpTenant fails when the schema has an _enc column not listed
// here, so a new encrypted column cannot escape the erasure scan.
var sealed = map[string]struct {
	cols   []string
	rowKey string // column whose value is the AAD row key ("" = none)
}{
	"customers":           {cols: []string{"name_enc", "phone_enc", "email_enc"}},
	"calls":               {cols: []string{"from_enc", "transcript_enc", "summary_enc", "custom_analysis"}, rowKey: "call_id"},
	"appointments":        {cols: []string{"notes_enc"}},
	"callback_requests":   {cols: []string{"phone_enc"}},
	"idempotency_records": {cols: []string{"response"}, rowKey: "idem_key"},
}

// dumpTenant returns everything readable about a tenant in the database:
// every column of every row of the tenant (raw bytes, as an attacker with
// a database copy sees them) plus every ciphertext decrypted with the
// keyring (as an attacker with the keys too would). Tables without a
// tenant_id column are dumped whole.
func (e *env) dumpTenant(t *testing.T, tenant string) string {
	t.Helper()
	ctx := context.Background()
	var out bytes.Buffer
	rows, err := e.db.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position`)
	mustNil(t, err, "columns")
	cols := map[string][]string{}
	var tables []string
	for rows.Next() {
		var tb, col string
		mustNil(t, rows.Scan(&tb, &col), "scan column")
		if _, seen := cols[tb]; !seen {
			tables = append(tables, tb)
		}
		cols[tb] = append(cols[tb], col)
	}
	rows.Close()
	for _, tb := range tables {
		hasTenant := false
		for _, c := range cols[tb] {
			hasTenant = hasTenant || c == "tenant_id"
			if strings.HasSuffix(c, "_enc") {
				found := false
				for _, s := range sealed[tb].cols {
					found = found || s == c
				}
				if !found {
					t.Fatalf("encrypted column %s.%s is not covered by the erasure scan", tb, c)
				}
			}
		}
		q := "SELECT * FROM `" + tb + "`"
		var args []any
		if hasTenant {
			q += " WHERE tenant_id = ?"
			args = append(args, tenant)
		}
		r, err := e.db.QueryContext(ctx, q, args...)
		mustNil(t, err, "dump "+tb)
		names, _ := r.Columns()
		for r.Next() {
			vals := make([]any, len(names))
			ptrs := make([]any, len(names))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			mustNil(t, r.Scan(ptrs...), "scan "+tb)
			byName := map[string][]byte{}
			for i, n := range names {
				var b []byte
				switch v := vals[i].(type) {
				case []byte:
					b = v
				case string:
					b = []byte(v)
				case nil:
				default:
					b = fmt.Appendf(nil, "%v", v)
				}
				byName[n] = b
				out.Write(b)
				out.WriteByte('\n')
			}
			spec, ok := sealed[tb]
			if !ok {
				continue
			}
			for _, c := range spec.cols {
				ct := byName[c]
				if len(ct) == 0 {
					continue
				}
				var aad []byte
				if spec.rowKey != "" {
					aad = pii.AAD(string(byName["tenant_id"]), tb, c, string(byName[spec.rowKey]))
				} else {
					aad = pii.AAD(string(byName["tenant_id"]), tb, c)
				}
				pt, err := e.keys.Open(ct, aad)
				if err != nil {
					t.Fatalf("%s.%s does not decrypt: %v", tb, c, err)
				}
				out.Write(pt)
				out.WriteByte('\n')
			}
		}
		r.Close()
		mustNil(t, r.Err(), "rows "+tb)
	}
	return out.String()
}

// indexHits counts rows of the tenant still holding a blind index of the
// person's phone or email.
func (e *env) indexHits(t *testing.T, tenant, phone, email string) int {
	t.Helper()
	ph := e.keys.Index(pii.IndexPhone, tenant, phone)
	em := e.keys.Index(pii.IndexEmail, tenant, email)
	var n int
	mustNil(t, e.db.QueryRow(`SELECT
		(SELECT COUNT(*) FROM customers WHERE tenant_id = ? AND (phone_idx = ? OR email_idx = ?)) +
		(SELECT COUNT(*) FROM calls WHERE tenant_id = ? AND from_idx = ?)`, tenant, ph, em, tenant, ph).Scan(&n), "index hits")
	return n
}
