package i18n

import (
	"reflect"
	"sync"
)

// Localizable is a value that fills its human-readable texts from its
// message codes in a language (its rendered fields are not the source).
type Localizable interface {
	Localize(lang string)
}

// LocalizeAll renders every Localizable reachable from v (through struct
// fields, pointers, slices, arrays, interfaces and map values) in lang, and
// returns v, or a localized copy of v when v is not a pointer.
func LocalizeAll(v any, lang string) any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || !mayHold(rv.Type()) {
		return v
	}
	if rv.Kind() != reflect.Pointer {
		cp := reflect.New(rv.Type()).Elem()
		cp.Set(rv)
		walk(cp, lang, 0)
		return cp.Interface()
	}
	walk(rv, lang, 0)
	return v
}

var localizable = reflect.TypeFor[Localizable]()

// holders remembers mayHold per type: LocalizeAll runs on every response,
// and most response types hold no Localizable at all, which is known from
// the type alone.
var holders sync.Map // reflect.Type -> bool

// mayHold reports whether a value of type t can contain a Localizable: t
// or a type reachable through its exported fields, elements or map values
// implements it (through a pointer), or an interface on the way could
// hold one. Leaves such as strings, numbers and byte slices cannot.
func mayHold(t reflect.Type) bool {
	if v, ok := holders.Load(t); ok {
		return v.(bool)
	}
	h := reaches(t, map[reflect.Type]bool{})
	holders.Store(t, h)
	return h
}

// reaches is mayHold without the memo; seen breaks cycles (a type being
// looked at holds nothing more than what the first look finds).
func reaches(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return reaches(t.Elem(), seen)
	case reflect.Struct:
		if reflect.PointerTo(t).Implements(localizable) {
			return true
		}
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && reaches(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

func walk(v reflect.Value, lang string, depth int) {
	if depth > 64 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walk(v.Elem(), lang, depth+1)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && mayHold(f.Type) {
				walk(v.Field(i), lang, depth+1)
			}
		}
		if v.CanAddr() && reflect.PointerTo(t).Implements(localizable) {
			v.Addr().Interface().(Localizable).Localize(lang)
		}
	case reflect.Slice, reflect.Array:
		if !mayHold(v.Type().Elem()) {
			return
		}
		for i := range v.Len() {
			walk(v.Index(i), lang, depth+1)
		}
	case reflect.Map:
		if !mayHold(v.Type().Elem()) {
			return
		}
		it := v.MapRange()
		for it.Next() {
			walk(it.Value(), lang, depth+1)
		}
	}
}
