"""An independent signer for the interop tests: Python's `cryptography` (Debian's
python3-cryptography) and the standard library only. It builds the RFC 9421 signature
base and the draft-cavage-12 signing string by hand from the RFC text, signs, and
sends the request with urllib. It shares no code with the library under test.

usage: python_signer.py rfc9421 URL KEYFILE KEYID
       python_signer.py cavage-post URL KEYFILE KEYID BODY
prints: STATUS\nBODY
"""
import base64, hashlib, secrets, sys, time, urllib.error, urllib.parse, urllib.request
from email.utils import formatdate
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def sign(key, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise SystemExit("unsupported key")


def send(method, url, headers, body=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def rfc9421(url, key, keyid):
    u = urllib.parse.urlsplit(url)
    created = int(time.time())
    nonce = secrets.token_urlsafe(16)
    params = f'("@method" "@authority" "@path");created={created};keyid="{keyid}";nonce="{nonce}"'
    base = f'"@method": GET\n"@authority": {u.netloc}\n"@path": {u.path}\n"@signature-params": {params}'
    sig = base64.b64encode(sign(key, base.encode())).decode()
    return send("GET", url, {"Signature-Input": f"sig1={params}", "Signature": f"sig1=:{sig}:"})


def cavage_post(url, key, keyid, body):
    # Shaped like Mastodon's SignedRequest: Signature header, hs2019, Digest: SHA-256=.
    u = urllib.parse.urlsplit(url)
    data = body.encode()
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    date = formatdate(usegmt=True)
    ctype = "application/activity+json"
    lines = [f"(request-target): post {u.path}", f"host: {u.netloc}", f"date: {date}", f"digest: {digest}", f"content-type: {ctype}"]
    sig = base64.b64encode(sign(key, "\n".join(lines).encode())).decode()
    header = f'keyId="{keyid}",algorithm="hs2019",headers="(request-target) host date digest content-type",signature="{sig}"'
    return send("POST", url, {"Host": u.netloc, "Date": date, "Digest": digest, "Content-Type": ctype, "Signature": header}, data)


mode, url, keyfile, keyid = sys.argv[1:5]
key = serialization.load_pem_private_key(open(keyfile, "rb").read(), password=None)
status, text = rfc9421(url, key, keyid) if mode == "rfc9421" else cavage_post(url, key, keyid, sys.argv[5])
print(status)
print(text)
