package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rust-s2i/rust-s2i-musl/test/testpki"
)

// pingHandler answers /_ping as a daemon does, which is all Connect asks.
func pingHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", "1.41")
	w.Header().Set("OSType", "linux")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write([]byte("OK"))
	}
}

// daemonTLS is a loopback server that speaks as dockerd --tlsverify does: its
// certificate from ca for names, and client certificates required and checked
// against clientCA.
func daemonTLS(t *testing.T, ca, clientCA *testpki.CA, names ...string) *httptest.Server {
	t.Helper()
	pair, err := ca.Server(names...)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pair.TLS()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.Cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(pingHandler))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func tcpHost(srv *httptest.Server) string {
	return "tcp://" + srv.Listener.Addr().String()
}

// A daemon with TLS is reached with the docker CLI's variables, and each way TLS can
// fail is one sentence that names the daemon and what to check, not x509's text.
func TestConnectTLS(t *testing.T) {
	t.Parallel()
	good, err := testpki.NewCA("daemon CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := testpki.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	goodClient, err := good.Client()
	if err != nil {
		t.Fatal(err)
	}
	otherClient, err := other.Client()
	if err != nil {
		t.Fatal(err)
	}
	tlsDaemon := daemonTLS(t, good, good, "127.0.0.1")
	misnamed := daemonTLS(t, good, good, "127.0.0.2", "docker")
	plain := httptest.NewServer(http.HandlerFunc(pingHandler))
	t.Cleanup(plain.Close)

	tests := []struct {
		name     string
		srv      *httptest.Server
		caPEM    []byte
		client   testpki.Pair
		noTLSEnv bool
		want     string // "" is success; {host} and {certs} are replaced
	}{
		{name: "verified both ways", srv: tlsDaemon, caPEM: good.PEM, client: goodClient},
		{name: "a CA that did not sign the daemon's certificate", srv: tlsDaemon, caPEM: other.PEM, client: goodClient,
			want: "the Docker daemon at {host} failed TLS verification: its certificate is not signed by the CA (ca.pem) in DOCKER_CERT_PATH={certs}"},
		{name: "the daemon's certificate is for another name", srv: misnamed, caPEM: good.PEM, client: goodClient,
			want: "the Docker daemon at {host} failed TLS verification: its certificate is not valid for the host name 127.0.0.1 in the address (it is for docker, 127.0.0.2)"},
		{name: "a client certificate the daemon does not trust", srv: tlsDaemon, caPEM: good.PEM, client: otherClient,
			want: "the Docker daemon at {host} refused our TLS client certificate: check that cert.pem and key.pem in DOCKER_CERT_PATH={certs} are signed by the CA the daemon trusts (its --tlscacert)"},
		{name: "no client certificate", srv: tlsDaemon, caPEM: good.PEM,
			want: "the Docker daemon at {host} wants a TLS client certificate, and DOCKER_CERT_PATH={certs} has no cert.pem and key.pem"},
		{name: "TLS to a daemon without it", srv: plain, caPEM: good.PEM, client: goodClient,
			want: "the Docker daemon at {host} does not speak TLS: unset DOCKER_TLS_VERIFY and DOCKER_TLS for it, or use the daemon's TLS port"},
		{name: "no TLS to a daemon with it", srv: tlsDaemon, noTLSEnv: true,
			want: "the Docker daemon at {host} speaks TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the directory with its ca.pem, cert.pem and key.pem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			certs := filepath.Join(t.TempDir(), "certs")
			if err := testpki.WriteCertPath(certs, tc.caPEM, tc.client); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"DOCKER_CONFIG": t.TempDir(), "DOCKER_HOST": tcpHost(tc.srv)}
			if !tc.noTLSEnv {
				env["DOCKER_TLS_VERIFY"], env["DOCKER_CERT_PATH"] = "1", certs
			}
			c, err := Connect(context.Background(), mapEnv(env))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			want := strings.NewReplacer("{host}", tcpHost(tc.srv), "{certs}", certs).Replace(tc.want)
			t.Log(err)
			if msg := err.Error(); !strings.HasPrefix(msg, want) || strings.Contains(msg, "\n") || strings.Contains(msg, "x509:") {
				t.Errorf("error\n  %s\nwant one line starting with\n  %s", msg, want)
			}
		})
	}
}
