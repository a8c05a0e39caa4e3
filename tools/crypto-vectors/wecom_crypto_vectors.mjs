// @wecom/crypto (npm, 1.0.1) against our vectors, both ways: reads our sealed cases on
// stdin, has @wecom/crypto check and decrypt ours and encrypt the same plaintext itself.
// Run by generate.sh; not needed by the tests.
import { decrypt, encrypt, getSignature } from '@wecom/crypto';

const input = await new Promise((resolve) => {
  let data = '';
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(data));
});
const cases = JSON.parse(input).map((c) => {
  const signatureMatches = getSignature(c.token, c.timestamp, c.nonce, c.encrypt) === c.msg_signature;
  const { message, id } = decrypt(c.encoding_aes_key, c.encrypt);
  const theirs = encrypt(c.encoding_aes_key, c.plaintext, c.receive_id);
  return {
    token: c.token,
    encoding_aes_key: c.encoding_aes_key,
    receive_id: c.receive_id,
    timestamp: c.timestamp,
    nonce: c.nonce,
    plaintext: c.plaintext,
    ours: {
      random16: c.random16,
      encrypt: c.encrypt,
      msg_signature: c.msg_signature,
      they_decrypted: message,
      they_read_receive_id: id,
      their_signature_matches: signatureMatches,
    },
    theirs: { encrypt: theirs, msg_signature: getSignature(c.token, c.timestamp, c.nonce, theirs) },
  };
});
process.stdout.write(JSON.stringify({ implementation: '@wecom/crypto@1.0.1', cases }, null, 1));
