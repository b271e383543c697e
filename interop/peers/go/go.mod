module ferrule-go-peer

// Old enough for Debian bookworm's golang-go (1.19); standard library only.
go 1.19
