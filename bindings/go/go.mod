module github.com/ferrule-tls/ferrule/bindings/go

go 1.19
