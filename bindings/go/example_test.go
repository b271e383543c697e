package ferrule_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"

	ferrule "github.com/ferrule-tls/ferrule/bindings/go"
)

// A server on a listener, and a client that dials it and verifies the
// server's certificate against a root.
func Example() {
	cert, err := ferrule.LoadX509KeyPair("testdata/localhost.pem", "testdata/localhost.key")
	if err != nil {
		log.Fatal(err)
	}
	l, err := ferrule.Listen("tcp", "127.0.0.1:0", &ferrule.Config{Certificates: []ferrule.Certificate{cert}})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c) // echo until the client closes
	}()

	pem, err := os.ReadFile("testdata/root.pem")
	if err != nil {
		log.Fatal(err)
	}
	roots := ferrule.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	conn, err := ferrule.Dial("tcp", "localhost:"+port, &ferrule.Config{RootCAs: roots})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil {
		log.Fatal(err)
	}
	st := conn.ConnectionState()
	fmt.Printf("%s, TLS 1.3: %v, peer %s\n", buf, st.Version == ferrule.VersionTLS13, st.PeerCertificates[0].Subject.CommonName)
	// Output: ping, TLS 1.3: true, peer localhost
}

// net/http on both ends: http.Serve on a ferrule listener, and an
// http.Client whose transport dials with ferrule.
func Example_http() {
	cert, err := ferrule.LoadX509KeyPair("testdata/localhost.pem", "testdata/localhost.key")
	if err != nil {
		log.Fatal(err)
	}
	l, err := ferrule.Listen("tcp", "127.0.0.1:0", &ferrule.Config{Certificates: []ferrule.Certificate{cert}})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s", r.Proto)
	})}
	go srv.Serve(l)
	defer srv.Close()

	pem, _ := os.ReadFile("testdata/root.pem")
	roots := ferrule.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	dialer := &ferrule.Dialer{Config: &ferrule.Config{RootCAs: roots}}
	client := &http.Client{Transport: &http.Transport{DialTLSContext: dialer.DialContext}}
	defer client.CloseIdleConnections()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	resp, err := client.Get("https://localhost:" + port + "/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 hello over HTTP/1.1
}
