"""wechatpy (PyPI wechatpy==2.0.0a26) against our vectors, both ways.

Reads our sealed cases (JSON from the `crypto_vectors` example) on stdin; for each, has
wechatpy verify and decrypt ours, and seal the same plaintext itself. Writes the results
as JSON on stdout. Run by generate.sh; not needed by the tests.
"""

import json
import sys

from wechatpy.work.crypto import WeChatCrypto

out = []
for case in json.load(sys.stdin):
    crypto = WeChatCrypto(case["token"], case["encoding_aes_key"], case["receive_id"])
    envelope = (
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt></xml>"
    ).format(case["receive_id"], case["encrypt"])
    theirs_of_ours = crypto.decrypt_message(
        envelope, case["msg_signature"], case["timestamp"], case["nonce"]
    )
    if isinstance(theirs_of_ours, bytes):
        theirs_of_ours = theirs_of_ours.decode("utf-8")
    sealed = crypto.encrypt_message(case["plaintext"], case["nonce"], case["timestamp"])
    out.append(
        {
            "token": case["token"],
            "encoding_aes_key": case["encoding_aes_key"],
            "receive_id": case["receive_id"],
            "timestamp": case["timestamp"],
            "nonce": case["nonce"],
            "plaintext": case["plaintext"],
            "ours": {
                "random16": case["random16"],
                "encrypt": case["encrypt"],
                "msg_signature": case["msg_signature"],
                "they_decrypted": theirs_of_ours,
            },
            "theirs": {"envelope": sealed},
        }
    )
json.dump({"implementation": "wechatpy==2.0.0a26 (wechatpy.work.crypto.WeChatCrypto)", "cases": out}, sys.stdout, ensure_ascii=False, indent=1)
