package config

import (
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache/s3"
)

// cache-timeout is parsed once, when the settings are read, in every front end,
// with the same error; Validate holds it to its range.
func TestCacheTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw     string
		want    time.Duration
		load    string // the parse error's text; "" means it parses
		invalid bool   // Validate refuses it
	}{
		{"30s", 30 * time.Second, "", false},
		{"1h", time.Hour, "", false},
		{"90m", 90 * time.Minute, "", true},
		{"soon", 0, `"soon" is not a duration such as 30s or 2m`, false},
		{"30", 0, `"30" is not a duration`, false},
		{"0s", 0, `"0s" is not a positive duration`, false},
		{"-5s", 0, `"-5s" is not a positive duration`, false},
	} {
		in, ierr := FromInputs(env{"INPUT_CACHE-TIMEOUT": tc.raw}.get)
		pl, perr := FromPlugin(env{"PLUGIN_CACHE_TIMEOUT": tc.raw}.get)
		fl, ferr := ParseBuildFlags([]string{"--cache-timeout", tc.raw}, io.Discard)
		if tc.load != "" {
			for _, err := range []error{ierr, perr, ferr} {
				var ie *InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), "cache") || !strings.Contains(err.Error(), tc.load) {
					t.Errorf("%q: got %v, want an input error about cache-timeout saying %s", tc.raw, err, tc.load)
				}
			}
			continue
		}
		if ierr != nil || perr != nil || ferr != nil {
			t.Errorf("%q: %v, %v, %v", tc.raw, ierr, perr, ferr)
			continue
		}
		for _, c := range []Config{in, pl, fl} {
			if c.Cache.Timeout != tc.want {
				t.Errorf("%q: Cache.Timeout = %v, want %v", tc.raw, c.Cache.Timeout, tc.want)
			}
			c.Binary, c.Source = "x", "."
			err := c.Validate(InputNaming)
			if got := err != nil; got != tc.invalid {
				t.Errorf("%q: Validate = %v, want invalid %v", tc.raw, err, tc.invalid)
			}
		}
	}
	if d := Defaults().Cache.Timeout; d != 0 {
		t.Errorf("the default timeout is %v, want 0 (each backend's own)", d)
	}
}

// The defaults come from the settings table; this spells them out once.
func TestDefaults(t *testing.T) {
	t.Parallel()
	want := Config{
		Source: ".", Builder: DefaultBuilder, RuntimeImage: DefaultRuntimeImage, Pull: "missing",
		Profile: DefaultProfile, Locked: true, Auditable: true, SBOM: true, Provenance: true, Engine: EngineAuto,
		Cache: Cache{Backend: CacheNone, KeyPrefix: "rust-s2i-musl", Save: true},
	}
	if got := Defaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("Defaults() =\n %#v\nwant\n %#v", got, want)
	}
}

// Every s3.Config field a setting fills maps back to that setting, so that an
// s3.FieldError is reported in the user's words.
func TestS3SettingsMap(t *testing.T) {
	t.Parallel()
	var c Config
	fields := reflect.ValueOf(&c.Cache.S3).Elem()
	for field, name := range s3Settings {
		i := slices.IndexFunc(settings, func(s setting) bool { return s.name == name })
		if i < 0 {
			t.Errorf("s3 field %s maps to %s, which is no setting", field, name)
			continue
		}
		if name == "cache-timeout" {
			continue // Cache.Timeout, copied into s3.Config by the CLI
		}
		if p, f := reflect.ValueOf(settings[i].field(&c)).Pointer(), fields.FieldByName(field); !f.IsValid() || p != f.Addr().Pointer() {
			t.Errorf("setting %s does not fill s3.Config.%s", name, field)
		}
	}
	// And a problem s3 reports for a field no setting fills still names a setting.
	c.Cache.Backend, c.Cache.S3 = CacheS3, s3.Config{Bucket: "b12", PartSize: 1}
	if got := inputErrors(t, errors.Join(s3Problems(c.Cache.S3, FlagNaming)...)); !slices.Equal(got, []string{"--cache"}) {
		t.Errorf("named %q, want --cache", got)
	}
}
