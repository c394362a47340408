package engine

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// oneSentence is an error whose message is one sentence for the user, with the cause
// kept for errors.Is and errors.As but not printed: a TLS failure's cause is a wall
// of x509 text that says less than the sentence does.
type oneSentence struct {
	msg string
	err error
}

func (e *oneSentence) Error() string { return e.msg }
func (e *oneSentence) Unwrap() error { return e.err }

// materialError is a failure of the docker CLI's ClientOpts: TLS material that
// does not parse, or an ssh address it cannot use.
func (e Endpoint) materialError(err error) error {
	if e.tlsFrom == "" {
		return fmt.Errorf("cannot reach the Docker daemon at %s: %w", e.Host, err)
	}
	return &oneSentence{
		msg: fmt.Sprintf("the TLS certificates for the Docker daemon at %s in %s are not usable (%s): check that ca.pem, cert.pem and key.pem are PEM files and that cert.pem belongs to key.pem", e.Host, e.tlsFrom, shortCause(err)),
		err: err,
	}
}

// pingError turns a failed first request into one sentence naming the daemon and
// what to check. The TLS failures are told apart by the errors crypto/tls returns.
func (e Endpoint) pingError(err error) error {
	var (
		unknownCA  x509.UnknownAuthorityError
		wrongName  x509.HostnameError
		invalid    x509.CertificateInvalidError
		notTLS     tls.RecordHeaderError
		opErr      *net.OpError
		httpsOnly  = strings.Contains(err.Error(), "TLS-enabled daemon without TLS") || strings.Contains(err.Error(), "HTTP request to an HTTPS server")
		tlsPrefix  = fmt.Sprintf("the Docker daemon at %s failed TLS verification", e.Host)
		msg        string
		clientCert = e.ep.TLSData != nil && e.ep.TLSData.Cert != nil
	)
	switch {
	case errors.As(err, &unknownCA):
		msg = fmt.Sprintf("%s: its certificate is not signed by the CA (ca.pem) in %s", tlsPrefix, e.tlsFrom)
	case errors.As(err, &wrongName):
		msg = fmt.Sprintf("%s: its certificate is not valid for the host name %s in the address (it is for %s)", tlsPrefix, wrongName.Host, certNames(wrongName.Certificate))
	case errors.As(err, &invalid) && (invalid.Reason == x509.Expired):
		msg = fmt.Sprintf("%s: its certificate has expired or is not valid yet (check the daemon's certificate and both clocks)", tlsPrefix)
	case errors.As(err, &invalid):
		msg = fmt.Sprintf("%s: its certificate is not valid for a server (%s)", tlsPrefix, shortCause(invalid))
	case errors.As(err, &notTLS) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		msg = fmt.Sprintf("the Docker daemon at %s does not speak TLS: unset DOCKER_TLS_VERIFY and DOCKER_TLS for it, or use the daemon's TLS port", e.Host)
	case errors.As(err, &opErr) && opErr.Op == "remote error" && !clientCert:
		msg = fmt.Sprintf("the Docker daemon at %s wants a TLS client certificate, and %s has no cert.pem and key.pem", e.Host, e.tlsFrom)
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		msg = fmt.Sprintf("the Docker daemon at %s refused our TLS client certificate: check that cert.pem and key.pem in %s are signed by the CA the daemon trusts (its --tlscacert)", e.Host, e.tlsFrom)
	case httpsOnly && e.tlsFrom == "":
		msg = fmt.Sprintf("the Docker daemon at %s speaks TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the directory with its ca.pem, cert.pem and key.pem", e.Host)
	case strings.HasPrefix(e.Host, "ssh://") && sshStderr(err) != "":
		msg = fmt.Sprintf("the Docker daemon at %s cannot be reached over ssh (%s): check that ssh logs in to that host without a prompt (key, known_hosts) and that the remote user runs docker", e.Host, sshStderr(err))
	default:
		return fmt.Errorf("no Docker daemon answers at %s (%s; is it running? set DOCKER_HOST or DOCKER_CONTEXT to reach another): %w", e.Host, e.described(), err)
	}
	return &oneSentence{msg: msg, err: err}
}

// described says where the endpoint came from, as the docker CLI's contexts do.
func (e Endpoint) described() string {
	switch {
	case e.Context != defaultContext:
		return fmt.Sprintf("Docker context %q from %s", e.Context, e.namedBy)
	case e.namedBy != "":
		return "from " + e.namedBy
	default:
		return "the default"
	}
}

// shortCause is the last part of an error's text: "tls: bad certificate" rather than
// the request and dial that led to it.
func shortCause(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		s = s[i+2:]
	}
	return strings.TrimSpace(s)
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "other names"
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no host name at all"
	}
	return strings.Join(names, ", ")
}

// sshStderr is the last line that ssh wrote before the docker CLI's connection helper
// gave up ("Permission denied (publickey).", "Connection refused"), which says more
// than the helper's own text around it.
func sshStderr(err error) string {
	_, stderr, ok := strings.Cut(err.Error(), "stderr=")
	if !ok {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
