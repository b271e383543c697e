/*
 * test_keysched.c - known-answer tests of the TLS 1.3 key schedule, the
 * transcript hash, HKDF-Expand-Label, X25519 and record protection against
 * the RFC 8448 §3 "Simple 1-RTT Handshake" trace (and the §4 PSK early
 * secret).  Every vector below is copied from /work/shared/rfc/rfc8448.txt.
 */
#include "testlib.h"

#include "keysched.h"
#include "record.h"

/* ---- RFC 8448 §3 vectors -------------------------------------------------- */
/* CLIENT_PRIV (32 bytes) */
static const char CLIENT_PRIV[] =
    "49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005"
    ;
/* CLIENT_PUB (32 bytes) */
static const char CLIENT_PUB[] =
    "99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c"
    ;
/* SERVER_PRIV (32 bytes) */
static const char SERVER_PRIV[] =
    "b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e"
    ;
/* SERVER_PUB (32 bytes) */
static const char SERVER_PUB[] =
    "c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f"
    ;
/* CLIENT_HELLO (196 bytes) */
static const char CLIENT_HELLO[] =
    "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef"
    "6283024dece7000006130113031302010000910000000b000900000673657276"
    "6572ff01000100000a00140012001d0017001800190100010101020103010400"
    "230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e"
    "51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603"
    "020308040805080604010501060102010402050206020202002d00020101001c"
    "00024001"
    ;
/* SERVER_HELLO (90 bytes) */
static const char SERVER_HELLO[] =
    "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155"
    "772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdb"
    "f7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304"
    ;
/* EARLY_SECRET (32 bytes) */
static const char EARLY_SECRET[] =
    "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"
    ;
/* DERIVED_EARLY (32 bytes) */
static const char DERIVED_EARLY[] =
    "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"
    ;
/* DERIVED_EARLY_INFO (49 bytes) */
static const char DERIVED_EARLY_INFO[] =
    "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb9"
    "2427ae41e4649b934ca495991b7852b855"
    ;
/* ECDHE (32 bytes) */
static const char ECDHE[] =
    "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d"
    ;
/* HS_SECRET (32 bytes) */
static const char HS_SECRET[] =
    "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac"
    ;
/* TH_SH (32 bytes) */
static const char TH_SH[] =
    "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8"
    ;
/* C_HS (32 bytes) */
static const char C_HS[] =
    "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21"
    ;
/* S_HS (32 bytes) */
static const char S_HS[] =
    "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"
    ;
/* MASTER (32 bytes) */
static const char MASTER[] =
    "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919"
    ;
/* S_HS_KEY (16 bytes) */
static const char S_HS_KEY[] =
    "3fce516009c21727d0f2e4e86ee403bc"
    ;
/* S_HS_IV (12 bytes) */
static const char S_HS_IV[] =
    "5d313eb2671276ee13000b30"
    ;
/* ENC_EXT (40 bytes) */
static const char ENC_EXT[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c"
    "0002400100000000"
    ;
/* CERTIFICATE (445 bytes) */
static const char CERTIFICATE[] =
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a"
    "864886f70d01010b0500300e310c300a06035504031303727361301e170d3136"
    "303733303031323335395a170d3236303733303031323335395a300e310c300a"
    "0603550403130372736130819f300d06092a864886f70d010101050003818d00"
    "30818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826"
    "d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312"
    "0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda4308467480"
    "30530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a"
    "8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355"
    "1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5"
    "b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a5"
    "8c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102"
    "702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0"
    "a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de10000"
    ;
/* CERT_VERIFY (136 bytes) */
static const char CERT_VERIFY[] =
    "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145a"
    "b3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef780c5ea248ee"
    "aaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c"
    "9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea2"
    "0d53dfacd42f74f3"
    ;
/* S_FIN_KEY (32 bytes) */
static const char S_FIN_KEY[] =
    "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8"
    ;
/* S_FIN_VD (32 bytes) */
static const char S_FIN_VD[] =
    "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718"
    ;
/* S_FINISHED (36 bytes) */
static const char S_FINISHED[] =
    "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454"
    "b78f0718"
    ;
/* S_HS_PAYLOAD (657 bytes) */
static const char S_HS_PAYLOAD[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c"
    "00024001000000000b0001b9000001b50001b0308201ac30820115a003020102"
    "020102300d06092a864886f70d01010b0500300e310c300a0603550403130372"
    "7361301e170d3136303733303031323335395a170d3236303733303031323335"
    "395a300e310c300a0603550403130372736130819f300d06092a864886f70d01"
    "0101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c"
    "0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19e"
    "aa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e2"
    "2a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a"
    "8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304"
    "023000300b0603551d0f0404030205a0300d06092a864886f70d01010b050003"
    "81810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594"
    "365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd"
    "335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb"
    "2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4"
    "2b4de100000f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f82"
    "4cd484145ab3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef78"
    "0c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671"
    "459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda"
    "65cdf5aea20d53dfacd42f74f3140000209b9b141d906337fbd2cbdce71df4de"
    "da4ab42c309572cb7fffee5454b78f0718"
    ;
/* S_HS_RECORD (679 bytes) */
static const char S_HS_RECORD[] =
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35e"
    "df7869fcf40aa40aa2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78"
    "b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13b"
    "d9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9"
    "d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2e"
    "d65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd61092"
    "8d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead68694"
    "5ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b368"
    "4596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f"
    "4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26"
    "f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b65962224531"
    "7b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e"
    "1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da"
    "8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d4"
    "61e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe"
    "5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb"
    "992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c859"
    "77b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038"
    "ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b84"
    "5e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5"
    "d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e"
    "750edc53370d2b"
    ;
/* TH_SF (32 bytes) */
static const char TH_SF[] =
    "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13"
    ;
/* C_AP (32 bytes) */
static const char C_AP[] =
    "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5"
    ;
/* S_AP (32 bytes) */
static const char S_AP[] =
    "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"
    ;
/* EXP_MASTER (32 bytes) */
static const char EXP_MASTER[] =
    "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50"
    ;
/* S_AP_KEY (16 bytes) */
static const char S_AP_KEY[] =
    "9f02283b6c9c07efc26bb9f2ac92e356"
    ;
/* S_AP_IV (12 bytes) */
static const char S_AP_IV[] =
    "cf782b88dd83549aadf1e984"
    ;
/* C_HS_KEY (16 bytes) */
static const char C_HS_KEY[] =
    "dbfaa693d1762c5b666af5d950258d01"
    ;
/* C_HS_IV (12 bytes) */
static const char C_HS_IV[] =
    "5bd3c71b836e0b76bb73265f"
    ;
/* C_FIN_KEY (32 bytes) */
static const char C_FIN_KEY[] =
    "b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4"
    ;
/* C_FIN_VD (32 bytes) */
static const char C_FIN_VD[] =
    "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61"
    ;
/* C_FINISHED (36 bytes) */
static const char C_FINISHED[] =
    "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2"
    "edd5ce61"
    ;
/* C_FIN_RECORD (58 bytes) */
static const char C_FIN_RECORD[] =
    "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc"
    "44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546"
    ;
/* C_AP_KEY (16 bytes) */
static const char C_AP_KEY[] =
    "17422dda596ed5d9acd890e3c63f5051"
    ;
/* C_AP_IV (12 bytes) */
static const char C_AP_IV[] =
    "5b78923dee08579033e523d9"
    ;
/* TH_CF (32 bytes) */
static const char TH_CF[] =
    "209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d"
    ;
/* RES_MASTER (32 bytes) */
static const char RES_MASTER[] =
    "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c"
    ;
/* NST_RECORD (227 bytes) */
static const char NST_RECORD[] =
    "17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d4"
    "1d6af8f6b580dcf3d11d63c758db289a015940252f55713e061dc13e078891a3"
    "8efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e0"
    "9c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406"
    "f16e3fc181a77ca475840025db2f0a77f81b5ab05b94c01346755f69232c8651"
    "9d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74"
    "bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf159"
    "85684f"
    ;
/* NST (205 bytes) */
static const char NST[] =
    "040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec9000000"
    "00262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785a"
    "bc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827"
    "db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529"
    "513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea61764"
    "6fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934a"
    "e4d3570008002a000400000400"
    ;
/* C_APPDATA_RECORD (72 bytes) */
static const char C_APPDATA_RECORD[] =
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f"
    "2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae6"
    "3aeebb21694915e4"
    ;
/* S_APPDATA_RECORD (72 bytes) */
static const char S_APPDATA_RECORD[] =
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36"
    "e30efaf97d90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf33254"
    "0dd032e167c2955d"
    ;
/* APPDATA (50 bytes) */
static const char APPDATA[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f3031"
    ;
/* C_ALERT_RECORD (24 bytes) */
static const char C_ALERT_RECORD[] =
    "1703030013c9872760655666b74d7ff1153efd6db6d0b0e3"
    ;
/* S_ALERT_RECORD (24 bytes) */
static const char S_ALERT_RECORD[] =
    "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9"
    ;
/* RESUMPTION_PSK (32 bytes) */
static const char RESUMPTION_PSK[] =
    "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3"
    ;
/* PSK_IKM (32 bytes) */
static const char PSK_IKM[] =
    "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3"
    ;
/* PSK_EARLY_SECRET (32 bytes) */
static const char PSK_EARLY_SECRET[] =
    "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c"
    ;

/* ---- helpers --------------------------------------------------------------- */

/* Decoded vectors are kept here and freed at the end of each test. */
static unsigned char *pool[64];
static size_t pool_n;

static const uint8_t *hx(const char *hex, size_t *len) {
    size_t n = 0;
    unsigned char *p = tl_unhex(hex, &n);
    if (pool_n < sizeof(pool) / sizeof(pool[0])) pool[pool_n++] = p;
    if (len != NULL) *len = n;
    return p;
}
static void pool_free(void) {
    for (size_t i = 0; i < pool_n; i++) free(pool[i]);
    pool_n = 0;
}
/* Compare n bytes of `got` with a hex vector of exactly n bytes. */
#define CHECK_HEX(got, hex, n_)                                                                    \
    do {                                                                                           \
        size_t kat_n_;                                                                             \
        const uint8_t *kat_ = hx(hex, &kat_n_);                                                    \
        CHECK_EQ(kat_n_, (n_));                                                                    \
        CHECK_MEM((got), kat_, kat_n_);                                                            \
    } while (0)

/* Transcript hashes of the trace, computed from the handshake messages. */
typedef struct trace_hashes {
    uint8_t ch_sh[32]; /* ClientHello..ServerHello */
    uint8_t ch_cv[32]; /* ClientHello..CertificateVerify */
    uint8_t ch_sf[32]; /* ClientHello..server Finished */
    uint8_t ch_cf[32]; /* ClientHello..client Finished */
} trace_hashes;

static void add_msg(fr_transcript *t, const char *hex) {
    size_t n;
    const uint8_t *m = hx(hex, &n);
    CHECK_EQ(fr_transcript_update(t, m, n), FR_OK);
}

static void compute_hashes(trace_hashes *h) {
    fr_transcript t = {0};
    CHECK_EQ(fr_transcript_init(&t, FR_HASH_SHA256), FR_OK);
    add_msg(&t, CLIENT_HELLO);
    add_msg(&t, SERVER_HELLO);
    CHECK_EQ(fr_transcript_current(&t, h->ch_sh), FR_OK);
    add_msg(&t, ENC_EXT);
    add_msg(&t, CERTIFICATE);
    add_msg(&t, CERT_VERIFY);
    CHECK_EQ(fr_transcript_current(&t, h->ch_cv), FR_OK);
    add_msg(&t, S_FINISHED);
    CHECK_EQ(fr_transcript_current(&t, h->ch_sf), FR_OK);
    add_msg(&t, C_FINISHED);
    CHECK_EQ(fr_transcript_current(&t, h->ch_cf), FR_OK);
    fr_transcript_free(&t);
}

/* ---- tests ------------------------------------------------------------------ */

TEST(transcript_hashes_match_trace) {
    trace_hashes h;
    compute_hashes(&h);
    CHECK_HEX(h.ch_sh, TH_SH, 32);
    CHECK_HEX(h.ch_sf, TH_SF, 32);
    CHECK_HEX(h.ch_cf, TH_CF, 32);
    pool_free();
}

TEST(x25519_shared_secret) {
    fr_kex c = {0}, s = {0};
    uint8_t pub[FR_KEX_MAX_PUB], ss[FR_KEX_MAX_SECRET];
    size_t pub_len = 0, ss_len = 0, n;
    const uint8_t *priv = hx(CLIENT_PRIV, &n);
    CHECK_EQ(fr_kex_from_private(&c, FERRULE_GROUP_X25519, priv, n, pub, sizeof(pub), &pub_len),
             FR_OK);
    CHECK_HEX(pub, CLIENT_PUB, pub_len);
    priv = hx(SERVER_PRIV, &n);
    CHECK_EQ(fr_kex_from_private(&s, FERRULE_GROUP_X25519, priv, n, pub, sizeof(pub), &pub_len),
             FR_OK);
    CHECK_HEX(pub, SERVER_PUB, pub_len);

    const uint8_t *peer = hx(SERVER_PUB, &n);
    CHECK_EQ(fr_kex_derive(&c, peer, n, ss, sizeof(ss), &ss_len), FR_OK);
    CHECK_HEX(ss, ECDHE, ss_len);
    memset(ss, 0, sizeof(ss));
    peer = hx(CLIENT_PUB, &n);
    CHECK_EQ(fr_kex_derive(&s, peer, n, ss, sizeof(ss), &ss_len), FR_OK);
    CHECK_HEX(ss, ECDHE, ss_len);

    /* Only X25519 with a 32-byte key is loadable deterministically. */
    CHECK_EQ(fr_kex_from_private(&c, FERRULE_GROUP_X25519, priv, 31, pub, sizeof(pub), &pub_len),
             FERRULE_R_INTERNAL);
    CHECK_EQ(fr_kex_from_private(&c, FERRULE_GROUP_SECP256R1, priv, 32, pub, sizeof(pub),
                                 &pub_len),
             FERRULE_R_INTERNAL);
    fr_kex_free(&c);
    fr_kex_free(&s);
    pool_free();
}

TEST(hkdf_expand_label_encoding) {
    /* The RFC prints the HkdfLabel ("info") for "tls13 derived"; expanding
     * with that info directly must equal HKDF-Expand-Label. */
    size_t n;
    const uint8_t *early = hx(EARLY_SECRET, NULL);
    const uint8_t *info = hx(DERIVED_EARLY_INFO, &n);
    uint8_t empty_hash[32], a[32], b[32];
    CHECK_EQ(fr_hash(FR_HASH_SHA256, NULL, 0, empty_hash), FR_OK);
    CHECK_EQ(fr_hkdf_expand(FR_HASH_SHA256, early, info, n, a, 32), FR_OK);
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, early, "derived", empty_hash, 32, b, 32), FR_OK);
    CHECK_HEX(a, DERIVED_EARLY, 32);
    CHECK_HEX(b, DERIVED_EARLY, 32);

    /* "key"/"iv" with an empty context (server handshake write keys). */
    const uint8_t *shs = hx(S_HS, NULL);
    uint8_t key[16], iv[12];
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, shs, "key", NULL, 0, key, 16), FR_OK);
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, shs, "iv", NULL, 0, iv, 12), FR_OK);
    CHECK_HEX(key, S_HS_KEY, 16);
    CHECK_HEX(iv, S_HS_IV, 12);

    /* Non-empty, non-hash context: the resumption PSK from ticket_nonce
     * 0x0000 (RFC 8446 §4.6.1). */
    const uint8_t *res = hx(RES_MASTER, NULL);
    static const uint8_t nonce[2] = {0, 0};
    uint8_t psk[32];
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, res, "resumption", nonce, 2, psk, 32), FR_OK);
    CHECK_HEX(psk, RESUMPTION_PSK, 32);

    /* Limits: label <= 255 - 6, context <= 255. */
    char label[251];
    memset(label, 'a', sizeof(label) - 1);
    label[250] = '\0';
    uint8_t ctx[256] = {0};
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, res, label, NULL, 0, psk, 32),
             FERRULE_R_INTERNAL);
    label[249] = '\0'; /* 249 + 6 = 255: the maximum */
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, res, label, NULL, 0, psk, 32), FR_OK);
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, res, "x", ctx, 256, psk, 32),
             FERRULE_R_INTERNAL);
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, res, "x", ctx, 255, psk, 32), FR_OK);
    pool_free();
}

TEST(key_schedule_full_trace) {
    trace_hashes h;
    compute_hashes(&h);
    fr_keysched ks;
    memset(&ks, 0xa5, sizeof(ks));
    CHECK_EQ(fr_ks_init(&ks, FR_HASH_SHA256, NULL, 0), FR_OK);
    CHECK_EQ(ks.hlen, 32);
    CHECK_HEX(ks.early_secret, EARLY_SECRET, 32);

    const uint8_t *ecdhe = hx(ECDHE, NULL);
    CHECK_EQ(fr_ks_handshake(&ks, ecdhe, 32, h.ch_sh), FR_OK);
    CHECK_HEX(ks.handshake_secret, HS_SECRET, 32);
    CHECK_HEX(ks.client_hs, C_HS, 32);
    CHECK_HEX(ks.server_hs, S_HS, 32);

    uint8_t vd[32];
    CHECK_EQ(fr_ks_finished(FR_HASH_SHA256, ks.server_hs, h.ch_cv, vd), FR_OK);
    CHECK_HEX(vd, S_FIN_VD, 32);
    /* finished_key itself, and HMAC over it (RFC 8446 §4.4.4). */
    uint8_t fk[32], vd2[32];
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, ks.server_hs, "finished", NULL, 0, fk, 32),
             FR_OK);
    CHECK_HEX(fk, S_FIN_KEY, 32);
    CHECK_EQ(fr_hmac(FR_HASH_SHA256, fk, 32, h.ch_cv, 32, vd2), FR_OK);
    CHECK_MEM(vd2, vd, 32);
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, ks.client_hs, "finished", NULL, 0, fk, 32),
             FR_OK);
    CHECK_HEX(fk, C_FIN_KEY, 32);
    /* The Finished message in the trace carries exactly this verify_data. */
    const uint8_t *sfin = hx(S_FINISHED, NULL);
    CHECK_MEM(vd, sfin + 4, 32);

    CHECK_EQ(fr_ks_master(&ks, h.ch_sf), FR_OK);
    CHECK_HEX(ks.master_secret, MASTER, 32);
    CHECK_HEX(ks.client_ap, C_AP, 32);
    CHECK_HEX(ks.server_ap, S_AP, 32);
    CHECK_HEX(ks.exporter, EXP_MASTER, 32);

    CHECK_EQ(fr_ks_finished(FR_HASH_SHA256, ks.client_hs, h.ch_sf, vd), FR_OK);
    CHECK_HEX(vd, C_FIN_VD, 32);
    const uint8_t *cfin = hx(C_FINISHED, NULL);
    CHECK_MEM(vd, cfin + 4, 32);

    CHECK_EQ(fr_ks_resumption(&ks, h.ch_cf), FR_OK);
    CHECK_HEX(ks.resumption, RES_MASTER, 32);

    /* Traffic keys for every direction and epoch. */
    struct {
        const uint8_t *secret;
        const char *key, *iv;
    } kv[] = {
        {ks.server_hs, S_HS_KEY, S_HS_IV},
        {ks.client_hs, C_HS_KEY, C_HS_IV},
        {ks.server_ap, S_AP_KEY, S_AP_IV},
        {ks.client_ap, C_AP_KEY, C_AP_IV},
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        uint8_t key[16], iv[12];
        CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, kv[i].secret, "key", NULL, 0, key, 16),
                 FR_OK);
        CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, kv[i].secret, "iv", NULL, 0, iv, 12),
                 FR_OK);
        CHECK_HEX(key, kv[i].key, 16);
        CHECK_HEX(iv, kv[i].iv, 12);
    }

    /* A different transcript gives a different verify_data. */
    uint8_t th2[32];
    memcpy(th2, h.ch_sf, 32);
    th2[0] ^= 1;
    CHECK_EQ(fr_ks_finished(FR_HASH_SHA256, ks.client_hs, th2, vd), FR_OK);
    CHECK(memcmp(vd, cfin + 4, 32) != 0);

    fr_ks_wipe(&ks);
    static const uint8_t zero[sizeof(fr_keysched)];
    CHECK_MEM(&ks, zero, sizeof(ks));
    pool_free();
}

TEST(key_schedule_psk_early_secret) {
    /* RFC 8448 §4: Early Secret = HKDF-Extract(0, resumption PSK). */
    fr_keysched ks = {0};
    size_t n;
    const uint8_t *psk = hx(PSK_IKM, &n);
    CHECK_EQ(fr_ks_init(&ks, FR_HASH_SHA256, psk, n), FR_OK);
    CHECK_HEX(ks.early_secret, PSK_EARLY_SECRET, 32);
    CHECK_EQ(fr_ks_init(&ks, 0, NULL, 0), FERRULE_R_INTERNAL);
    /* SHA-384 schedule works and uses 48-byte secrets. */
    CHECK_EQ(fr_ks_init(&ks, FR_HASH_SHA384, NULL, 0), FR_OK);
    CHECK_EQ(ks.hlen, 48);
    uint8_t th[48] = {0}, ecdhe[32] = {1};
    CHECK_EQ(fr_ks_handshake(&ks, ecdhe, 32, th), FR_OK);
    CHECK(memcmp(ks.client_hs, ks.server_hs, 48) != 0);
    fr_ks_wipe(&ks);
    /* Steps before init fail instead of computing over zeros. */
    CHECK_EQ(fr_ks_handshake(&ks, ecdhe, 32, th), FERRULE_R_INTERNAL);
    CHECK_EQ(fr_ks_master(&ks, th), FERRULE_R_INTERNAL);
    pool_free();
}

TEST(key_update_and_exporter) {
    const uint8_t *cap = hx(C_AP, NULL);
    uint8_t secret[32], expect[32];
    memcpy(secret, cap, 32);
    /* RFC 8446 §7.2 */
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, cap, "traffic upd", NULL, 0, expect, 32), FR_OK);
    CHECK_EQ(fr_ks_update_secret(FR_HASH_SHA256, secret), FR_OK);
    CHECK_MEM(secret, expect, 32);
    CHECK(memcmp(secret, cap, 32) != 0);
    CHECK_EQ(fr_ks_update_secret(0, secret), FERRULE_R_INTERNAL);

    /* RFC 8446 §7.5, composed from the primitives by hand. */
    const uint8_t *exp = hx(EXP_MASTER, NULL);
    static const char label[] = "EXPORTER-test";
    static const uint8_t context[] = {1, 2, 3};
    uint8_t empty_hash[32], ctx_hash[32], tmp[32], want[40], got[40];
    CHECK_EQ(fr_hash(FR_HASH_SHA256, NULL, 0, empty_hash), FR_OK);
    CHECK_EQ(fr_hash(FR_HASH_SHA256, context, sizeof(context), ctx_hash), FR_OK);
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, exp, label, empty_hash, 32, tmp, 32), FR_OK);
    CHECK_EQ(fr_hkdf_expand_label(FR_HASH_SHA256, tmp, "exporter", ctx_hash, 32, want, 40), FR_OK);
    CHECK_EQ(fr_ks_export(FR_HASH_SHA256, exp, label, strlen(label), context, sizeof(context), got,
                          sizeof(got)),
             FR_OK);
    CHECK_MEM(got, want, 40);
    /* An empty context is Hash("") - not the same as no change. */
    uint8_t got2[40];
    CHECK_EQ(fr_ks_export(FR_HASH_SHA256, exp, label, strlen(label), NULL, 0, got2, sizeof(got2)),
             FR_OK);
    CHECK(memcmp(got, got2, 40) != 0);
    /* Labels that cannot be encoded are refused. */
    char longlabel[251];
    memset(longlabel, 'x', sizeof(longlabel));
    CHECK_EQ(fr_ks_export(FR_HASH_SHA256, exp, longlabel, 250, NULL, 0, got, 16),
             FERRULE_R_ILLEGAL_PARAMETER);
    CHECK_EQ(fr_ks_export(FR_HASH_SHA256, exp, "a\0b", 3, NULL, 0, got, 16),
             FERRULE_R_ILLEGAL_PARAMETER);
    pool_free();
}

TEST(record_server_handshake_flight_decrypts) {
    /* RFC 8448 §3: the server's encrypted EncryptedExtensions..Finished
     * record under the server handshake traffic key. */
    fr_aead a = {0};
    CHECK_EQ(fr_aead_init(&a, FERRULE_TLS_AES_128_GCM_SHA256, hx(S_HS, NULL), 0), FR_OK);
    size_t n, pn;
    const uint8_t *kat = hx(S_HS_RECORD, &n);
    uint8_t *rec = malloc(n);
    memcpy(rec, kat, n);
    uint8_t type = 0, *pt = NULL;
    size_t pt_len = 0;
    CHECK_EQ(fr_record_open(&a, rec, n, &type, &pt, &pt_len), FR_OK);
    CHECK_EQ(type, FR_CT_HANDSHAKE);
    const uint8_t *payload = hx(S_HS_PAYLOAD, &pn);
    CHECK_EQ(pt_len, pn);
    if (pt_len == pn) CHECK_MEM(pt, payload, pn);
    CHECK_EQ(a.seq, 1);

    /* The same bytes again (now at sequence 1) must not authenticate. */
    memcpy(rec, kat, n);
    CHECK_EQ(fr_record_open(&a, rec, n, &type, &pt, &pt_len), FERRULE_R_BAD_RECORD_MAC);
    free(rec);
    fr_aead_free(&a);
    pool_free();
}

TEST(record_client_finished_seals) {
    /* RFC 8448 §3: the client Finished record under the client handshake
     * traffic key (sequence 0, no padding). */
    fr_aead a = {0};
    CHECK_EQ(fr_aead_init(&a, FERRULE_TLS_AES_128_GCM_SHA256, hx(C_HS, NULL), 1), FR_OK);
    size_t n;
    const uint8_t *fin = hx(C_FINISHED, &n);
    uint8_t out[128];
    size_t out_len = 0;
    CHECK_EQ(fr_record_seal(&a, FR_CT_HANDSHAKE, fin, n, 0, out, sizeof(out), &out_len), FR_OK);
    CHECK_HEX(out, C_FIN_RECORD, out_len);

    /* And the server opens it. */
    fr_aead b = {0};
    CHECK_EQ(fr_aead_init(&b, FERRULE_TLS_AES_128_GCM_SHA256, hx(C_HS, NULL), 0), FR_OK);
    uint8_t type, *pt;
    size_t pt_len;
    CHECK_EQ(fr_record_open(&b, out, out_len, &type, &pt, &pt_len), FR_OK);
    CHECK_EQ(type, FR_CT_HANDSHAKE);
    CHECK_EQ(pt_len, n);
    CHECK_MEM(pt, fin, n);
    fr_aead_free(&a);
    fr_aead_free(&b);
    pool_free();
}

/* Seal `payload_hex` as `type` and compare with `record_hex`. */
static void seal_matches(fr_aead *a, uint8_t type, const char *payload_hex,
                         const char *record_hex) {
    size_t n;
    const uint8_t *p = hx(payload_hex, &n);
    uint8_t out[512];
    size_t out_len = 0;
    CHECK_EQ(fr_record_seal(a, type, p, n, 0, out, sizeof(out), &out_len), FR_OK);
    CHECK_HEX(out, record_hex, out_len);
}

/* Open `record_hex` and compare with `payload_hex`. */
static void open_matches(fr_aead *a, uint8_t want_type, const char *record_hex,
                         const char *payload_hex) {
    size_t n, pn;
    const uint8_t *kat = hx(record_hex, &n);
    const uint8_t *payload = hx(payload_hex, &pn);
    uint8_t rec[512];
    memcpy(rec, kat, n);
    uint8_t type = 0, *pt = NULL;
    size_t pt_len = 0;
    CHECK_EQ(fr_record_open(a, rec, n, &type, &pt, &pt_len), FR_OK);
    CHECK_EQ(type, want_type);
    CHECK_EQ(pt_len, pn);
    if (pt_len == pn) CHECK_MEM(pt, payload, pn);
}

TEST(record_application_traffic_sequence) {
    /* Server application traffic: NewSessionTicket (seq 0), application
     * data (seq 1), close_notify alert (seq 2).  Client: data (0), alert (1).
     * Exercises the per-record nonce (iv XOR seq). */
    static const char ALERT[] = "0100";
    fr_aead s_w = {0}, s_r = {0}, c_w = {0}, c_r = {0};
    CHECK_EQ(fr_aead_init(&s_w, FERRULE_TLS_AES_128_GCM_SHA256, hx(S_AP, NULL), 1), FR_OK);
    CHECK_EQ(fr_aead_init(&s_r, FERRULE_TLS_AES_128_GCM_SHA256, hx(S_AP, NULL), 0), FR_OK);
    CHECK_EQ(fr_aead_init(&c_w, FERRULE_TLS_AES_128_GCM_SHA256, hx(C_AP, NULL), 1), FR_OK);
    CHECK_EQ(fr_aead_init(&c_r, FERRULE_TLS_AES_128_GCM_SHA256, hx(C_AP, NULL), 0), FR_OK);

    seal_matches(&s_w, FR_CT_HANDSHAKE, NST, NST_RECORD);
    seal_matches(&s_w, FR_CT_APPLICATION_DATA, APPDATA, S_APPDATA_RECORD);
    seal_matches(&s_w, FR_CT_ALERT, ALERT, S_ALERT_RECORD);
    seal_matches(&c_w, FR_CT_APPLICATION_DATA, APPDATA, C_APPDATA_RECORD);
    seal_matches(&c_w, FR_CT_ALERT, ALERT, C_ALERT_RECORD);

    open_matches(&s_r, FR_CT_HANDSHAKE, NST_RECORD, NST);
    open_matches(&s_r, FR_CT_APPLICATION_DATA, S_APPDATA_RECORD, APPDATA);
    open_matches(&s_r, FR_CT_ALERT, S_ALERT_RECORD, ALERT);
    open_matches(&c_r, FR_CT_APPLICATION_DATA, C_APPDATA_RECORD, APPDATA);
    open_matches(&c_r, FR_CT_ALERT, C_ALERT_RECORD, ALERT);
    CHECK_EQ(s_r.seq, 3);
    CHECK_EQ(c_r.seq, 2);

    /* Out of order: the client's first record under the server key. */
    size_t n;
    const uint8_t *kat = hx(C_APPDATA_RECORD, &n);
    uint8_t rec[128];
    memcpy(rec, kat, n);
    uint8_t type, *pt;
    size_t pt_len;
    CHECK_EQ(fr_record_open(&s_r, rec, n, &type, &pt, &pt_len), FERRULE_R_BAD_RECORD_MAC);
    fr_aead_free(&s_w);
    fr_aead_free(&s_r);
    fr_aead_free(&c_w);
    fr_aead_free(&c_r);
    pool_free();
}

TEST_MAIN("keysched", TL_CASE(transcript_hashes_match_trace), TL_CASE(x25519_shared_secret),
          TL_CASE(hkdf_expand_label_encoding), TL_CASE(key_schedule_full_trace),
          TL_CASE(key_schedule_psk_early_secret), TL_CASE(key_update_and_exporter),
          TL_CASE(record_server_handshake_flight_decrypts), TL_CASE(record_client_finished_seals),
          TL_CASE(record_application_traffic_sequence))
