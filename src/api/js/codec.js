// Binary payloads: an emit's arguments to the core's JSON text and attachments, the
// core's back to values, and the Blobs (Files) to read first. Pure functions over
// values; the wasm module and the sockets are the callers' business.

const isBlob = (o) => typeof Blob == "function" && o instanceof Blob;
const isBinary = (o) => o instanceof ArrayBuffer || ArrayBuffer.isView(o) || isBlob(o);
export const hasBlob = (o) => {
  if (!o || typeof o != "object") return false;
  if (isBinary(o)) return isBlob(o);
  return (Array.isArray(o) ? o : Object.values(o)).some(hasBlob);
};
// `data` with each Blob (File included) replaced by its bytes, copying only the arrays
// and objects on the way to one: the app's own objects are left as they are.
export const withBytes = async (o) => {
  if (isBlob(o)) return o.arrayBuffer();
  if (!hasBlob(o)) return o;
  if (Array.isArray(o)) return Promise.all(o.map(withBytes));
  const copy = {};
  for (const [k, v] of Object.entries(o)) copy[k] = await withBytes(v);
  return copy;
};
export const hasBinary = (o) => {
  if (o && typeof o == "object") {
    if (isBinary(o)) return true;
    if (Array.isArray(o)) return o.some(hasBinary);
    for (const k in o) if (hasBinary(o[k])) return true;
  }
  return false;
};

// [json, attachments]: binary values (ArrayBuffer or any view of one, Node's Buffer
// included), anywhere in `data`, become {"_placeholder":true,"num":i} in depth-first
// order and their bytes attachment i, as socket.io-parser does (no binary: [json]).
export const encode = (data) => {
  if (!hasBinary(data)) return [JSON.stringify(data)];
  const attachments = [];
  const json = JSON.stringify(data, function (key, value) {
    // `this[key]` is the value before toJSON (Buffer has one).
    const o = this[key];
    if (!isBinary(o)) return value;
    if (o instanceof ArrayBuffer) attachments.push(new Uint8Array(o));
    else if (ArrayBuffer.isView(o)) attachments.push(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
    else throw new TypeError("resocket: a Blob reached the encoder unread");
    return { _placeholder: true, num: attachments.length - 1 };
  });
  return [json, attachments];
};

// Parses the core's JSON text once; placeholders become the attachments (ArrayBuffers of
// their exact bytes, what socket.io-client delivers in browsers). Throws when the text
// is not JSON (a SyntaxError) or a placeholder names no attachment (BAD_PLACEHOLDER):
// the core left both to this parse.
export const decode = (json, attachments) => {
  const value = JSON.parse(json);
  return attachments ? fill(value, attachments) : value;
};

export const BAD_PLACEHOLDER = new TypeError("an attachment placeholder names no attachment");

// Replaces placeholders in place, after the parse: a JSON.parse reviver would call back
// for every value, several times slower.
const fill = (v, buffers) => {
  if (!v || typeof v != "object") return v;
  if (v._placeholder === true) {
    const num = v.num;
    if (Number.isInteger(num) && num >= 0 && num < buffers.length) return buffers[num];
    throw BAD_PLACEHOLDER;
  }
  // Own keys only, each an own data property made by JSON.parse: assigning one, even
  // "__proto__", sets that property, never the prototype.
  for (const k of Object.keys(v)) v[k] = fill(v[k], buffers);
  return v;
};
