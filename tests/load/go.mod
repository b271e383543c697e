module ferrule-load

go 1.19

require github.com/ferrule-tls/ferrule/bindings/go v0.0.0

replace github.com/ferrule-tls/ferrule/bindings/go => ../../bindings/go
