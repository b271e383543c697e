package main

import (
	"fmt"
	"os"
)

const usage = `usage: ferrule-go-peer server --cert CHAIN.pem --key KEY.pem [options]
       ferrule-go-peer client --connect HOST:PORT --ca ROOT.pem [options]
       ferrule-go-peer (server|client) --help
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
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
}
