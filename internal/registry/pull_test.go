package registry

import (
	"context"
	"errors"
	"io"
	"iter"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// fakePuller answers ImagePull with err, or a response that streams msgs.
type fakePuller struct {
	err  error
	msgs []jsonstream.Message
	auth string
}

func (f *fakePuller) ImagePull(_ context.Context, _ string, o client.ImagePullOptions) (client.ImagePullResponse, error) {
	f.auth = o.RegistryAuth
	if f.err != nil {
		return nil, f.err
	}
	return pullResponse{f.msgs}, nil
}

// pullResponse streams its messages; Wait is not what Pull reads.
type pullResponse struct{ msgs []jsonstream.Message }

func (pullResponse) Read([]byte) (int, error) { return 0, io.EOF }
func (pullResponse) Close() error             { return nil }
func (r pullResponse) JSONMessages(context.Context) iter.Seq2[jsonstream.Message, error] {
	return func(yield func(jsonstream.Message, error) bool) {
		for _, m := range r.msgs {
			if !yield(m, nil) {
				return
			}
		}
	}
}
func (pullResponse) Wait(context.Context) error { panic("Pull reads the messages itself") }

func TestPull(t *testing.T) {
	t.Parallel()
	auth := Auth{Username: "ci", Password: "s3cret-pa55"}
	tests := []struct {
		name         string
		fake         fakePuller
		wantErr      string // "" for none
		unauthorized bool
	}{
		{"pulled", fakePuller{}, "", false},
		{"refused", fakePuller{err: errors.New("Error response from daemon: unauthorized: password s3cret-pa55 is wrong")}, "unauthorized: password *** is wrong", true},
		// In-band, after the HTTP status said 200.
		{"missing", fakePuller{msgs: []jsonstream.Message{
			{Status: "Pulling from o/base", ID: "1"},
			{Error: &jsonstream.Error{Message: "manifest unknown"}},
		}}, "manifest unknown", false},
		{"refused in-band", fakePuller{msgs: []jsonstream.Message{
			{Error: &jsonstream.Error{Code: 401, Message: "unauthorized: authentication required"}},
		}}, "unauthorized: authentication required", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Pull(t.Context(), &tc.fake, "ghcr.io/o/base:1", auth)
			if tc.fake.auth == "" {
				t.Error("the pull went out without the login")
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Pull = %v, want nil", err)
			case tc.wantErr == "":
				return
			case err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), auth.Password):
				t.Fatalf("Pull = %v, want an error with %q and without the password", err, tc.wantErr)
			}
			if errors.Is(err, ErrUnauthorized) != tc.unauthorized {
				t.Errorf("errors.Is(%v, ErrUnauthorized) = %v, want %v", err, !tc.unauthorized, tc.unauthorized)
			}
		})
	}
}
