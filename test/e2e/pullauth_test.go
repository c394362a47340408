package e2e

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// openFront is registry B as the daemon sees it: an open registry that speaks
// Docker Hub's token scheme. /v2/ answers 401 with a Bearer challenge, and its
// token endpoint gives anyone a pull token; that is where a client that has a
// login for the registry sends it (Basic on GET, the password in the form on
// POST), as the daemon sends a login to auth.docker.io when it pulls alpine:3.
// Requests with the token go on to the real registry behind it (hack/registry.sh,
// which wants a login of its own: the front adds it).
//
// The front records every credential a request carried, whatever it was for.
type openFront struct {
	addr  string // 127.0.0.1:PORT
	proxy *httputil.ReverseProxy

	mu     sync.Mutex
	creds  []string // each credential seen: an Authorization header, or a form's secret
	tokens int      // token requests, to show the daemon came this way
	pulls  int      // manifest requests with the token
}

// frontToken is the bearer token the front hands out and accepts.
const frontToken = "rust-s2i-e2e-anonymous-pull"

// startOpenFront serves an open front for the registry at upstream (host:port),
// which it logs in to as user.
func startOpenFront(t *testing.T, upstream, user, pass string) *openFront {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &openFront{addr: l.Addr().String()}
	target := &url.URL{Scheme: "http", Host: upstream}
	f.proxy = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // the registry's Location headers then name the front
		r.Out.SetBasicAuth(user, pass)
	}}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("the open front: %v", err)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	return f
}

func (f *openFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		f.token(w, r)
		return
	}
	auth := r.Header.Get("Authorization")
	if auth != "Bearer "+frontToken {
		f.record(auth)
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="rust-s2i-e2e-b"`, f.addr))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return
	}
	if strings.Contains(r.URL.Path, "/manifests/") {
		f.mu.Lock()
		f.pulls++
		f.mu.Unlock()
	}
	f.proxy.ServeHTTP(w, r)
}

// token gives anyone the pull token, and records what login the client sent for it.
func (f *openFront) token(w http.ResponseWriter, r *http.Request) {
	f.record(r.Header.Get("Authorization"))
	if r.Method == http.MethodPost && r.ParseForm() == nil {
		// The OAuth form of a token request (containerd's first try with a login).
		for _, k := range []string{"password", "refresh_token"} {
			if v := r.PostForm.Get(k); v != "" {
				f.record("form " + k + " " + v)
			}
		}
	}
	f.mu.Lock()
	f.tokens++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token": frontToken, "access_token": frontToken, "expires_in": 300,
		"issued_at": time.Now().UTC().Format(time.RFC3339),
	})
}

func (f *openFront) record(cred string) {
	if cred == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creds = append(f.creds, cred)
}

// seen returns the credentials recorded so far and forgets them, with the number
// of token and manifest requests.
func (f *openFront) seen() (creds []string, tokens, pulls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	creds, tokens, pulls = f.creds, f.tokens, f.pulls
	f.creds, f.tokens, f.pulls = nil, 0, 0
	return creds, tokens, pulls
}

// pushTo puts img into the registry reg as name, with a login of a Docker config
// of its own, and leaves the daemon without the name.
func pushTo(t *testing.T, img, reg, name, user, pass string) {
	t.Helper()
	ref := reg + "/" + name
	dir := dockerLogin(t, reg, user, pass) // tags_test.go's
	for _, args := range [][]string{{"tag", img, ref}, {"--config", dir, "push", ref}, {"rmi", ref}} {
		if out, err := command("docker", args...); err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
	}
}

// username and password serve the registries of the push names only. Registry A,
// the push target, wants a login; registry B holds the runtime image and is open,
// as Docker Hub is for alpine:3. The build pulls the runtime image from B
// anonymously (B records no credentials of any kind, A's least of all) and pushes
// to A with the login. Before the fix, the daemon sent A's login to B's token
// endpoint with the pull.
func TestPushLoginStaysWithPushRegistry(t *testing.T) {
	needDocker(t)
	t.Parallel()
	const userA, passA = "pusher-a", "Only-F0r-Registry-A"
	const userB, passB = "owner-b", "Behind-The-Fr0nt-B"
	regA := startRegistry(t, userA, passA)
	regB := startRegistry(t, userB, passB)
	front := startOpenFront(t, regB, userB, passB)
	pushTo(t, runtimeImage, regB, "rs2i/base:e2e", userB, passB)

	// The front is no vacuous test: a client with a login for it sends the login.
	dockerLogin(t, front.addr, "control", "Contr0l-Pass")
	if creds, _, _ := front.seen(); !strings.Contains(strings.Join(creds, "\n"), "Contr0l-Pass") &&
		!strings.Contains(strings.Join(creds, "\n"), basic("control", "Contr0l-Pass")) {
		t.Fatalf("a docker login through the front showed no credentials to it: %q", creds)
	}

	runtime := front.addr + "/rs2i/base:e2e"
	final := regA + "/rs2i/hello:e2e"
	t.Cleanup(func() {
		command("docker", "rmi", runtime)
		command("docker", "rmi", "-f", final)
	})
	ws, src := inWorkspace(t, "hello", "hello")
	_, tmp := names(t)
	env, _, _ := actionsEnv(t, ws, map[string]string{
		"binary": "hello", "source": src, "builder": builderImage, "runtime-image": runtime,
		"image": final, "tmp-image": tmp, "cache": "none", "push": "true", "username": userA, "password": passA,
	})
	r := runCmd(t, env, "build")
	if r.code != 0 {
		t.Fatalf("build with a runtime image from an open registry and a push to a private one failed:\n%s", r)
	}
	creds, tokens, pulls := front.seen()
	if tokens == 0 || pulls == 0 {
		t.Errorf("the runtime image was not pulled through registry B (%d token, %d manifest requests):\n%s", tokens, pulls, r)
	}
	for _, c := range creds {
		if strings.Contains(c, passA) || strings.Contains(c, basic(userA, passA)) {
			t.Errorf("registry B was sent registry A's login: %q", c)
		} else {
			t.Errorf("registry B was sent a credential: %q", c)
		}
	}
	if resp, _ := registryGet(t, "http://"+regA+"/v2/rs2i/hello/manifests/e2e", userA, passA); resp.StatusCode != http.StatusOK {
		t.Errorf("registry A has no rs2i/hello:e2e (status %d)", resp.StatusCode)
	}
}

// basic is the value of a Basic Authorization header's credentials.
func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
