/*
 * test_cert.h - a throwaway ECDSA P-256 PKI embedded in the fuzz targets so
 * that they never read files at run time.  Generated once with the openssl
 * CLI (root -> leaf, leaf SAN DNS:localhost, IP:127.0.0.1, IP:::1, EKU
 * serverAuth+clientAuth); valid from 2026-11-22 for about a century.  The
 * keys protect nothing: they exist only for fuzzing.
 *
 *   FUZZ_ROOT_PEM        self-signed root (CN=ferrule fuzz root), CA:TRUE
 *   FUZZ_LEAF_CHAIN_PEM  leaf (CN=localhost) followed by the root
 *   FUZZ_LEAF_KEY_PEM    the leaf's PKCS#8 private key
 *   FUZZ_NOW             the fixed verification time (2026-11-23T00:00:00Z)
 */
#ifndef FUZZ_TEST_CERT_H
#define FUZZ_TEST_CERT_H

#define FUZZ_NOW ((int64_t)1795392000)

static const char FUZZ_ROOT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBnzCCAUWgAwIBAgIUE18PfNUFd/Ow4Y+obwxm7Rt/n8wwCgYIKoZIzj0EAwIw\n"
    "HDEaMBgGA1UEAwwRZmVycnVsZSBmdXp6IHJvb3QwIBcNMjYxMTIyMDMyNDA0WhgP\n"
    "MjEyNjEwMjkwMzI0MDRaMBwxGjAYBgNVBAMMEWZlcnJ1bGUgZnV6eiByb290MFkw\n"
    "EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqukzzXb9gZgL4LhaStrdg9C+Ldlh2wDu\n"
    "Zlymkeib63PbiGATz7eEABj5PuAfNYcO/toSmpYcFcYT9COGwKGRWKNjMGEwHQYD\n"
    "VR0OBBYEFH/WtwwMxOP4Im9rG3Y3hOQ7DEgFMB8GA1UdIwQYMBaAFH/WtwwMxOP4\n"
    "Im9rG3Y3hOQ7DEgFMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoG\n"
    "CCqGSM49BAMCA0gAMEUCIQDx6X9xhfE1AsmcbUYIwZSUZ3ANIrR6OJJivGtGNaBX\n"
    "tQIgeMUVQuDmH1UqBOwe4Aj/uSwlrnN9H1SBOSlsepywXZs=\n"
    "-----END CERTIFICATE-----\n";

static const char FUZZ_LEAF_CHAIN_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB4zCCAYmgAwIBAgIUbnwU764jQlfTUNE2WrNFME+UMRYwCgYIKoZIzj0EAwIw\n"
    "HDEaMBgGA1UEAwwRZmVycnVsZSBmdXp6IHJvb3QwIBcNMjYxMTIyMDMyNDA0WhgP\n"
    "MjEyNTA2MTYwMzI0MDRaMBQxEjAQBgNVBAMMCWxvY2FsaG9zdDBZMBMGByqGSM49\n"
    "AgEGCCqGSM49AwEHA0IABKjPaMgJUbCNWbbuZz/v58ege/+fAcjo6qatog2MD6Mf\n"
    "tEQzmNzBVSYOYAwLNJGHh0Pp3Y14+vrsaPvbaq2kpiujga4wgaswLAYDVR0RBCUw\n"
    "I4IJbG9jYWxob3N0hwR/AAABhxAAAAAAAAAAAAAAAAAAAAABMAwGA1UdEwEB/wQC\n"
    "MAAwDgYDVR0PAQH/BAQDAgeAMB0GA1UdJQQWMBQGCCsGAQUFBwMBBggrBgEFBQcD\n"
    "AjAdBgNVHQ4EFgQU7KmrmnM/iG1RQowyqysf08z4QUYwHwYDVR0jBBgwFoAUf9a3\n"
    "DAzE4/gib2sbdjeE5DsMSAUwCgYIKoZIzj0EAwIDSAAwRQIgDiMASRDn2XC4WAVz\n"
    "IGxdsabTUqoMu/kidybFeDLLGfICIQCJJWA08pU6do7VY80/1v8NSw5lAxlO2ufg\n"
    "34ZPQSSRBw==\n"
    "-----END CERTIFICATE-----\n"
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBnzCCAUWgAwIBAgIUE18PfNUFd/Ow4Y+obwxm7Rt/n8wwCgYIKoZIzj0EAwIw\n"
    "HDEaMBgGA1UEAwwRZmVycnVsZSBmdXp6IHJvb3QwIBcNMjYxMTIyMDMyNDA0WhgP\n"
    "MjEyNjEwMjkwMzI0MDRaMBwxGjAYBgNVBAMMEWZlcnJ1bGUgZnV6eiByb290MFkw\n"
    "EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqukzzXb9gZgL4LhaStrdg9C+Ldlh2wDu\n"
    "Zlymkeib63PbiGATz7eEABj5PuAfNYcO/toSmpYcFcYT9COGwKGRWKNjMGEwHQYD\n"
    "VR0OBBYEFH/WtwwMxOP4Im9rG3Y3hOQ7DEgFMB8GA1UdIwQYMBaAFH/WtwwMxOP4\n"
    "Im9rG3Y3hOQ7DEgFMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoG\n"
    "CCqGSM49BAMCA0gAMEUCIQDx6X9xhfE1AsmcbUYIwZSUZ3ANIrR6OJJivGtGNaBX\n"
    "tQIgeMUVQuDmH1UqBOwe4Aj/uSwlrnN9H1SBOSlsepywXZs=\n"
    "-----END CERTIFICATE-----\n";

static const char FUZZ_LEAF_KEY_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgl6IgnqCrSNEmdA20\n"
    "9yMkQibe0UVFd/FT4d8l1Cvr3pWhRANCAASoz2jICVGwjVm27mc/7+fHoHv/nwHI\n"
    "6OqmraINjA+jH7REM5jcwVUmDmAMCzSRh4dD6d2NePr67Gj722qtpKYr\n"
    "-----END PRIVATE KEY-----\n";

#endif
