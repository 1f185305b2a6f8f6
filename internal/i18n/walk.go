package i18n

import "reflect"

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

// mayHold reports whether a value of type t can contain a Localizable
// (leaves such as strings, numbers and byte slices cannot).
func mayHold(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return mayHold(t.Elem())
	case reflect.Struct, reflect.Interface:
		return true
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
