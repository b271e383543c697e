package main

import (
	"fmt"
	"os"
)

const usage = `usage: ferrule-go-peer server --cert CHAIN.pem --key KEY.pem [options]
       ferrule-go-peer client --connect HOST:PORT --ca ROOT.pem [options]
       ferrule-go-peer (server|client) --help
       ferrule-go-peer v1 caps|server|client [flags]   (interop/peers/PROTOCOL.md)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		serverMain(os.Args[2:])
	case "client":
		clientMain(os.Args[2:])
	case "v1":
		v1Main(os.Args[2:])
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
}
