package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// The daemon and registries tested in push_test.go never echo a password, so the
// redaction and the odd streams are tested here with a canned daemon stream: a
// fake only where nothing real behaves that way.

type cannedEngine struct {
	stream string // the daemon's JSON lines
	err    error  // returned by ImagePush instead
	got    client.ImagePushOptions
}

func (e *cannedEngine) ImagePush(_ context.Context, _ string, o client.ImagePushOptions) (client.ImagePushResponse, error) {
	e.got = o
	if e.err != nil {
		return nil, e.err
	}
	return cannedResponse{io.NopCloser(strings.NewReader(e.stream))}, nil
}

type cannedResponse struct{ io.ReadCloser }

func (r cannedResponse) JSONMessages(ctx context.Context) iter.Seq2[jsonstream.Message, error] {
	return func(yield func(jsonstream.Message, error) bool) {
		dec := json.NewDecoder(r)
		for {
			var m jsonstream.Message
			if err := dec.Decode(&m); err != nil {
				if !errors.Is(err, io.EOF) {
					yield(m, err)
				}
				return
			}
			if !yield(m, nil) {
				return
			}
		}
	}
}

func (r cannedResponse) Wait(ctx context.Context) error { return nil }

func TestPushStream(t *testing.T) {
	t.Parallel()
	const (
		ref    = "127.0.0.1:5000/app:v1"
		secret = "s3cret-P4ss"
	)
	auth := Auth{Username: "ci", Password: secret}
	const token = "refresh-T0ken-77"
	tokenAuth := Auth{Username: "ci", IdentityToken: token}
	basic := base64.StdEncoding.EncodeToString([]byte("ci:" + secret))
	ok := `{"status":"The push refers to repository [127.0.0.1:5000/app]"}
{"status":"Preparing","progressDetail":{},"id":"4a223c1e9187"}
{"status":"Waiting","progressDetail":{},"id":"4a223c1e9187"}
{"status":"Pushing","progressDetail":{"current":512,"total":1024},"progress":"[=====>     ]","id":"4a223c1e9187"}
{"status":"Pushed","progressDetail":{},"id":"4a223c1e9187"}
{"status":"Layer already exists","progressDetail":{},"id":"9b8c7d6e5f4a"}
{"status":"v1: digest: sha256:` + strings.Repeat("ab", 32) + ` size: 527"}
{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:` + strings.Repeat("ab", 32) + `","Size":527}}
`
	tests := []struct {
		name         string
		engine       *cannedEngine
		auth         Auth
		wantDigest   string
		wantErr      string
		wantAuthErr  bool
		wantProgress string
	}{
		{
			name:       "digest from aux, short progress",
			engine:     &cannedEngine{stream: ok},
			auth:       auth,
			wantDigest: "sha256:" + strings.Repeat("ab", 32),
			wantProgress: "The push refers to repository [127.0.0.1:5000/app]\n" +
				"4a223c1e9187: Pushed\n" +
				"9b8c7d6e5f4a: Layer already exists\n" +
				"v1: digest: sha256:" + strings.Repeat("ab", 32) + " size: 527\n",
		},
		{
			name: "an error echoing the password is redacted",
			engine: &cannedEngine{stream: `{"status":"login as ci:` + secret + ` (Basic ` + basic + `)"}
{"errorDetail":{"message":"unauthorized: password ` + secret + ` is wrong"},"error":"unauthorized"}
`},
			auth:         auth,
			wantErr:      `pushing ` + ref + `: the registry refused the credentials for user "ci": unauthorized: password *** is wrong`,
			wantAuthErr:  true,
			wantProgress: "login as *** (Basic ***)\n",
		},
		{
			name: "an identity token echoed is redacted, and sent",
			engine: &cannedEngine{stream: `{"status":"refreshing with ` + token + `"}
{"errorDetail":{"message":"unauthorized: token ` + token + ` expired"},"error":"unauthorized"}
`},
			auth:         tokenAuth,
			wantErr:      `pushing ` + ref + `: the registry refused the credentials for user "ci" (identity token): unauthorized: token *** expired`,
			wantAuthErr:  true,
			wantProgress: "refreshing with ***\n",
		},
		{
			name:        "denied to an identity token",
			engine:      &cannedEngine{stream: `{"errorDetail":{"message":"denied: requested access to the resource is denied"}}`},
			auth:        Auth{IdentityToken: token},
			wantErr:     `the registry denied the identity token the push`,
			wantAuthErr: true,
		},
		{
			name:        "denied",
			engine:      &cannedEngine{stream: `{"errorDetail":{"message":"denied: requested access to the resource is denied"}}`},
			auth:        auth,
			wantErr:     `the registry denied user "ci" the push`,
			wantAuthErr: true,
		},
		{
			name:        "denied anonymously",
			engine:      &cannedEngine{stream: `{"errorDetail":{"message":"denied: requested access to the resource is denied"}}`},
			wantErr:     `the registry denied an anonymous push`,
			wantAuthErr: true,
		},
		{
			name:        "code 401 without the usual words",
			engine:      &cannedEngine{stream: `{"errorDetail":{"code":401,"message":"nope"}}`},
			auth:        auth,
			wantErr:     `refused the credentials for user "ci": nope`,
			wantAuthErr: true,
		},
		{
			name:    "other in-band error",
			engine:  &cannedEngine{stream: `{"errorDetail":{"message":"blob upload unknown"}}`},
			auth:    auth,
			wantErr: "pushing " + ref + ": blob upload unknown",
		},
		{
			name:    "no digest",
			engine:  &cannedEngine{stream: `{"status":"Pushed","id":"abc"}`},
			auth:    auth,
			wantErr: "finished without reporting the pushed digest",
		},
		{
			name:    "broken stream",
			engine:  &cannedEngine{stream: `{"status":"Pu`},
			auth:    auth,
			wantErr: "pushing " + ref + ": reading the daemon's progress: ",
		},
		{
			name:    "the daemon refuses the request",
			engine:  &cannedEngine{err: errors.New("No such image: 127.0.0.1:5000/app:v1 (" + secret + ")")},
			auth:    auth,
			wantErr: "pushing " + ref + ": No such image: 127.0.0.1:5000/app:v1 (***)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var progress bytes.Buffer
			digest, err := Push(t.Context(), tc.engine, ref, tc.auth, &progress)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Push: %v", err)
				}
				if digest != tc.wantDigest {
					t.Errorf("digest = %q, want %q", digest, tc.wantDigest)
				}
			} else {
				if err == nil {
					t.Fatalf("Push = %q, want an error containing %q", digest, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error = %q\nwant it to contain %q", err, tc.wantErr)
				}
				if got := errors.Is(err, ErrUnauthorized); got != tc.wantAuthErr {
					t.Errorf("errors.Is(err, ErrUnauthorized) = %v, want %v", got, tc.wantAuthErr)
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), basic) || strings.Contains(err.Error(), token) {
					t.Errorf("the error leaks a secret: %v", err)
				}
			}
			if tc.wantProgress != "" && progress.String() != tc.wantProgress {
				t.Errorf("progress =\n%s\nwant\n%s", progress.String(), tc.wantProgress)
			}
			if strings.Contains(progress.String(), secret) || strings.Contains(progress.String(), basic) || strings.Contains(progress.String(), token) {
				t.Errorf("progress leaks a secret:\n%s", progress.String())
			}
			// What the daemon was given: the credentials, for this registry.
			sent, err := authconfig.Decode(tc.engine.got.RegistryAuth)
			if err != nil {
				t.Fatalf("the RegistryAuth sent does not decode: %v", err)
			}
			if sent.Username != tc.auth.Username || sent.Password != tc.auth.Password || sent.IdentityToken != tc.auth.IdentityToken {
				t.Errorf("sent user %q (password equal %v, identity token equal %v), want %q",
					sent.Username, sent.Password == tc.auth.Password, sent.IdentityToken == tc.auth.IdentityToken, tc.auth.Username)
			}
		})
	}
}

func TestPushCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	e := &cannedEngine{stream: `{"status":"Pushed","id":"abc"}`}
	_, err := Push(ctx, e, "127.0.0.1:5000/app", Auth{}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Push with a cancelled context = %v, want context.Canceled", err)
	}
}
