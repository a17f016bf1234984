package tenantfile

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/telefonagent/gateway/shared/booking"
)

// Diff lists, one human-readable line each, what applying next over prev
// would change: entities added or removed, and every changed field as
// "old → new". prev may be nil (a new tenant). Entities are matched by id,
// so the order in the file does not matter; nil and empty lists are equal.
// An empty result means applying next changes nothing.
func Diff(prev, next *booking.TenantConfig) []string {
	if prev == nil && next == nil {
		return nil
	}
	if prev == nil {
		prev = &booking.TenantConfig{}
		var out []string
		if next.Tenant.ID != "" {
			out = append(out, fmt.Sprintf("tenant %q: added", next.Tenant.ID))
		}
		return append(out, diffEntities(prev, next)...)
	}
	if next == nil {
		return []string{fmt.Sprintf("tenant %q: removed", prev.Tenant.ID)}
	}
	var out []string
	out = append(out, fieldChanges(fmt.Sprintf("tenant %q", next.Tenant.ID), flatten(prev.Tenant), flatten(next.Tenant))...)
	return append(out, diffEntities(prev, next)...)
}

func diffEntities(prev, next *booking.TenantConfig) []string {
	var out []string
	out = append(out, diffList("branch", keyed(prev.Branches, func(b booking.Branch) string { return b.ID }), keyed(next.Branches, func(b booking.Branch) string { return b.ID }))...)
	out = append(out, diffList("phone number", keyed(prev.PhoneNumbers, func(n booking.PhoneNumber) string { return n.E164 }), keyed(next.PhoneNumbers, func(n booking.PhoneNumber) string { return n.E164 }))...)
	out = append(out, diffList("service", keyed(prev.Services, func(s booking.Service) string { return s.ID }), keyed(next.Services, func(s booking.Service) string { return s.ID }))...)
	out = append(out, diffList("staff", keyed(prev.Staff, func(s booking.Staff) string { return s.ID }), keyed(next.Staff, func(s booking.Staff) string { return s.ID }))...)
	return out
}

type entity struct {
	id     string
	fields []field
}

func keyed[T any](items []T, id func(T) string) []entity {
	out := make([]entity, 0, len(items))
	for _, it := range items {
		out = append(out, entity{id: id(it), fields: flatten(it)})
	}
	return out
}

// diffList reports removed entities first (in old order), then added and
// changed ones in the new order.
func diffList(kind string, prev, next []entity) []string {
	var out []string
	old := map[string]entity{}
	for _, e := range prev {
		old[e.id] = e
	}
	seen := map[string]bool{}
	for _, e := range next {
		seen[e.id] = true
	}
	for _, e := range prev {
		if !seen[e.id] {
			out = append(out, fmt.Sprintf("%s %q: removed", kind, e.id))
		}
	}
	for _, e := range next {
		o, existed := old[e.id]
		label := fmt.Sprintf("%s %q", kind, e.id)
		if !existed {
			out = append(out, label+": added"+summary(e.fields))
			continue
		}
		out = append(out, fieldChanges(label, o.fields, e.fields)...)
	}
	return out
}

// summary names a new entity by its name, when it has one.
func summary(fs []field) string {
	for _, f := range fs {
		if f.name == "name" {
			return " (" + f.value + ")"
		}
	}
	return ""
}

func fieldChanges(label string, prev, next []field) []string {
	var out []string
	old := map[string]string{}
	for _, f := range prev {
		old[f.name] = f.value
	}
	seen := map[string]bool{}
	for _, f := range next {
		seen[f.name] = true
		o, ok := old[f.name]
		if !ok {
			o = "unset"
		}
		if o != f.value {
			out = append(out, fmt.Sprintf("%s: %s: %s → %s", label, f.name, o, f.value))
		}
	}
	for _, f := range prev {
		if !seen[f.name] {
			out = append(out, fmt.Sprintf("%s: %s: %s → unset", label, f.name, f.value))
		}
	}
	return out
}

type field struct{ name, value string }

var (
	openingHoursType = reflect.TypeOf(booking.OpeningHours(nil))
	feeTiersType     = reflect.TypeOf([]booking.FeeTier(nil))
)

// flatten turns an entity into "path = value" pairs. Keys of the entity
// (ids, tenant id) are left out; unset pointers, empty lists and empty maps
// produce no pair, so nil and empty compare equal.
func flatten(v any) []field {
	var out []field
	flattenValue(reflect.ValueOf(v), "", &out)
	return out
}

func flattenValue(v reflect.Value, path string, out *[]field) {
	add := func(value string) { *out = append(*out, field{path, value}) }
	switch {
	case v.Type() == openingHoursType:
		h := v.Interface().(booking.OpeningHours)
		for _, d := range dayKeys {
			add2 := field{join(path, strings.ToLower(d.day.String())), "closed"}
			if rs := h[d.day]; len(rs) > 0 {
				parts := make([]string, len(rs))
				for i, r := range rs {
					parts[i] = rangeText(r)
				}
				add2.value = strings.Join(parts, ", ")
			}
			*out = append(*out, add2)
		}
		return
	case v.Type() == feeTiersType:
		tiers := v.Interface().([]booking.FeeTier)
		if len(tiers) == 0 {
			return
		}
		parts := make([]string, len(tiers))
		for i, t := range tiers {
			parts[i] = fmt.Sprintf("≥%dh %s", t.MinHoursBefore, euroText(t.FeeCents))
		}
		add(strings.Join(parts, ", "))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if !sf.IsExported() || isKeyField(t, sf.Name) {
				continue
			}
			name := snake(sf.Name)
			if alias, ok := fileNames[name]; ok {
				name = alias
			}
			fv := v.Field(i)
			if strings.HasSuffix(name, "_cents") && fv.Kind() == reflect.Int64 {
				*out = append(*out, field{join(path, strings.TrimSuffix(name, "_cents")), euroText(fv.Int())})
				continue
			}
			flattenValue(fv, join(path, name), out)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			flattenValue(v.Elem(), path, out)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			return
		}
		if v.Type().Elem().Kind() == reflect.String {
			parts := make([]string, v.Len())
			for i := range parts {
				parts[i] = strconv.Quote(v.Index(i).String())
			}
			add("[" + strings.Join(parts, ", ") + "]")
			return
		}
		for i := 0; i < v.Len(); i++ {
			flattenValue(v.Index(i), index(path, i), out)
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			flattenValue(v.MapIndex(k), join(path, fmt.Sprint(k)), out)
		}
	case reflect.String:
		add(strconv.Quote(v.String()))
	case reflect.Bool:
		add(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		add(strconv.FormatInt(v.Int(), 10))
	default:
		add(fmt.Sprint(v.Interface()))
	}
}

// fileNames maps domain field names to the keys of the tenant file where
// they differ, so a diff line names what the author wrote.
var fileNames = map[string]string{
	"flags":       "features",
	"service_ids": "services",
	"branch_id":   "branch",
	"is_default":  "default",
	"agent_id":    "retell_agent_id",
}

// isKeyField reports fields that identify an entity rather than describe it.
func isKeyField(t reflect.Type, name string) bool {
	switch name {
	case "TenantID":
		return true
	case "ID": // named in the line's label
		return true
	case "E164":
		return t == reflect.TypeOf(booking.PhoneNumber{})
	}
	return false
}

// snake turns a Go field name into the file's spelling: EventTypeID →
// event_type_id, CalcomAPIKeyRef → calcom_api_key_ref.
func snake(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && !unicode.IsUpper(rs[i-1])
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1])
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
