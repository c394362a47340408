package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// FromPlugin fills a Config from Woodpecker/Drone plugin settings (PLUGIN_*).
//
// Both CIs pass a YAML list of plain values joined by commas and a map (or a list of
// maps) as JSON, so env may be written any of these ways:
//
//	env: |                   env: [A=1, B=2]          env:
//	  A=1                                               A: "1"
//	  B=2                                               B: 2
//
// arriving as "A=1\nB=2", "A=1,B=2" and {"A":"1","B":"2"} (also ["A=1","B=2"]).
// Booleans are true or false, as for the action. The cache is local when cache_dir
// is set and cache is not (a Woodpecker/Drone volume is the natural cache there), else
// none. Every unparsable setting is an *InputError; all come back at once. FromPlugin
// does not validate: call Validate(PluginNaming) on the result.
func FromPlugin(getenv func(string) string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(pluginEnv(name))) }
	c := Defaults()
	if get("cache-dir") != "" {
		c.Cache.Backend = CacheLocal
	}
	return c, load(&c, PluginNaming, get, func(v string, s setting) ([]string, error) {
		return parsePluginItems(v, s.splitText)
	})
}

// parsePluginList reads a list setting: a JSON object of NAME: value, a JSON array of
// NAME=VALUE strings, or the comma/newline form of splitEnvList.
func parsePluginList(v string) ([]string, error) {
	return parsePluginItems(v, func(v string) ([]string, error) { return splitEnvList(v), nil })
}

// parsePluginItems is parsePluginList with text, the setting's own way of
// splitting the text form.
func parsePluginItems(v string, text func(string) ([]string, error)) ([]string, error) {
	switch v[0] {
	case '{':
		return parseEnvObject(v)
	case '[':
		return parseEnvArray(v)
	}
	return text(v)
}

// parseEnvObject turns {"A":"1","B":2} into A=1, B=2, sorted by name. Scalars are
// accepted as the YAML author wrote them (Woodpecker quotes them, Drone may not);
// nested values are not.
func parseEnvObject(v string) ([]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, fmt.Errorf("is not a JSON object of NAME: value: %v", jsonProblem(err))
	}
	var out, bad []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		val, ok := scalar(m[k])
		if k == "" || strings.Contains(k, "=") || !ok {
			bad = append(bad, strconv.Quote(k))
			continue
		}
		out = append(out, k+"="+val)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("entries %s are not NAME: value with a plain value", strings.Join(bad, ", "))
	}
	return out, nil
}

// parseEnvArray turns ["A=1","B=2"] into A=1, B=2.
func parseEnvArray(v string) ([]string, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, fmt.Errorf("is not a JSON list of NAME=VALUE: %v", jsonProblem(err))
	}
	var out []string
	for i, r := range raw {
		s, ok := scalar(r)
		if !ok {
			return nil, fmt.Errorf("item %d of the JSON list is not a NAME=VALUE string", i+1)
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// scalar renders a JSON string, number, boolean or null as the text it stands for.
func scalar(r json.RawMessage) (string, bool) {
	r = bytes.TrimSpace(r)
	if len(r) == 0 {
		return "", false
	}
	switch r[0] {
	case '"':
		var s string
		err := json.Unmarshal(r, &s)
		return s, err == nil
	case '{', '[':
		return "", false
	case 'n':
		return "", true
	}
	// A number or a boolean: its JSON text is what the user wrote.
	return string(r), true
}

// jsonProblem keeps a JSON error short and free of the value, which may hold a secret.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%v (at byte %d)", syn, syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return "found " + typ.Value + " where an object or list belongs"
	}
	return err.Error()
}
