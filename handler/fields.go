// This file finds the fields that encoding/json decodes an object
// into, for a struct parameter that takes named params.

package handler

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"
)

// structParam describes the single struct parameter whose fields bind
// named params.
type structParam struct {
	typ    reflect.Type // the struct type
	ptr    bool         // the parameter is a pointer to typ
	whole  bool         // *typ implements json.Unmarshaler: no field table
	fields []structField
	lookup nameIndex // the names of fields
}

// structField is a field that encoding/json decodes a member into.
type structField struct {
	name     string // the JSON name
	typ      reflect.Type
	index    []int
	tagged   bool // the name comes from a tag
	optional bool // a pointer, or tagged omitempty or omitzero
	quoted   bool // tagged ",string"
}

// nameIndex finds a name's position among a list of names.
type nameIndex struct {
	names []string
	m     map[string]int // when there are many names
}

// newNameIndex returns an index of names.
func newNameIndex(names []string) nameIndex {
	x := nameIndex{names: names}
	if len(names) > mapLookupAbove {
		x.m = make(map[string]int, len(names))
		for i, n := range names {
			x.m[n] = i
		}
	}
	return x
}

// find returns the position of name, or -1.
func (x *nameIndex) find(name []byte) int {
	if x.m != nil {
		if i, ok := x.m[string(name)]; ok {
			return i
		}
		return -1
	}
	for i, n := range x.names {
		if n == string(name) {
			return i
		}
	}
	return -1
}

// newStructParam returns the description of a parameter of type t if it
// is a struct or a pointer to one, or nil.
func newStructParam(t reflect.Type) (*structParam, error) {
	st := &structParam{typ: t}
	if t.Kind() == reflect.Pointer {
		st.typ, st.ptr = t.Elem(), true
	}
	if st.typ.Kind() != reflect.Struct {
		return nil, nil
	}
	if reflect.PointerTo(st.typ).Implements(reflectUnmarshaler) {
		st.whole = true
		return st, nil
	}
	fields, err := jsonFields(st.typ)
	if err != nil {
		return nil, err
	}
	st.fields = fields
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	st.lookup = newNameIndex(names)
	return st, nil
}

// jsonFields returns the fields that encoding/json decodes an object into
// for struct type t, sorted by name, following its rules: exported
// fields, named by their json tag if it has a valid name, the fields of
// untagged embedded structs promoted, and of several fields of one name
// the shallowest wins if it is alone at its depth or the only tagged one
// there, else none.
func jsonFields(t reflect.Type) ([]structField, error) {
	type level struct {
		typ   reflect.Type
		index []int
	}
	var all []structField
	visited := map[reflect.Type]bool{}
	next := []level{{typ: t}}
	count := map[reflect.Type]int{t: 1}
	for len(next) > 0 {
		current := next
		next = nil
		nextCount := map[reflect.Type]int{}
		for _, l := range current {
			if visited[l.typ] {
				continue
			}
			visited[l.typ] = true
			for i := range l.typ.NumField() {
				sf := l.typ.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous {
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				index := append(slices.Clip(l.index), i)
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := structField{
						name:     name,
						typ:      sf.Type,
						index:    index,
						tagged:   name != "",
						optional: sf.Type.Kind() == reflect.Pointer || hasOption(opts, "omitempty") || hasOption(opts, "omitzero"),
						quoted:   hasOption(opts, "string"),
					}
					if f.name == "" {
						f.name = sf.Name
					}
					all = append(all, f)
					if count[l.typ] > 1 {
						// The struct is embedded more than once at this
						// depth: its fields conflict with themselves.
						all = append(all, f)
					}
					continue
				}
				if sf.Type.Kind() == reflect.Pointer && !sf.IsExported() {
					return nil, fmt.Errorf("embedded pointer to unexported struct %v cannot be decoded", ft)
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, level{typ: ft, index: index})
				}
			}
		}
		count = nextCount
	}

	slices.SortStableFunc(all, func(a, b structField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	var fields []structField
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		if f, ok := dominantField(all[i:j]); ok {
			fields = append(fields, f)
		}
		i = j
	}
	return fields, nil
}

// dominantField returns the field that wins among fields of one name, sorted
// by depth with tagged ones first, and whether there is one.
func dominantField(fields []structField) (structField, bool) {
	if len(fields) > 1 && len(fields[0].index) == len(fields[1].index) && fields[0].tagged == fields[1].tagged {
		return structField{}, false
	}
	return fields[0], true
}

// validTagName reports whether encoding/json accepts s as a field name.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// hasOption reports whether the comma-separated tag options opts hold
// option.
func hasOption(opts, option string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == option {
			return true
		}
	}
	return false
}
