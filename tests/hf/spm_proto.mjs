// A small reader of SentencePiece's ModelProto (sentencepiece_model.proto), for the golden
// generators: pieces (field 1: {1 piece, 2 score, 3 type}), trainer_spec (2: {3 model_type,
// 35 byte_fallback}) and normalizer_spec (3: {1 name, 2 precompiled_charsmap,
// 3 add_dummy_prefix, 4 remove_extra_whitespaces, 5 escape_whitespaces}).
function fields(bytes, begin, end, visit) {
  let p = begin;
  const varint = () => {
    let v = 0, shift = 0, b;
    do { b = bytes[p++]; v += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return v;
  };
  while (p < end) {
    const key = varint(), field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) visit(field, { value: varint() });
    else if (wire === 2) {
      const len = varint();
      visit(field, { begin: p, end: p + len });
      p += len;
    } else if (wire === 5) { visit(field, { float: Buffer.from(bytes.slice(p, p + 4)).readFloatLE(0) }); p += 4; }
    else if (wire === 1) p += 8;
    else throw new Error(`unexpected wire type ${wire} in a ModelProto`);
  }
}

export function parseModelProto(bytes) {
  const text = (f) => Buffer.from(bytes.slice(f.begin, f.end)).toString("utf8");
  const model = { pieces: [], modelType: 1, byteFallback: false,
    normalizer: { name: "", charsmap: null, addDummyPrefix: true, removeExtraWhitespaces: true,
      escapeWhitespaces: true } };
  fields(bytes, 0, bytes.length, (field, f) => {
    if (field === 1) {
      const piece = { piece: "", score: 0, type: 1 };
      fields(bytes, f.begin, f.end, (k, g) => {
        if (k === 1) piece.piece = text(g);
        else if (k === 2) piece.score = g.float;
        else if (k === 3) piece.type = g.value;
      });
      model.pieces.push(piece);
    } else if (field === 2) {
      fields(bytes, f.begin, f.end, (k, g) => {
        if (k === 3) model.modelType = g.value;
        else if (k === 35) model.byteFallback = g.value === 1;
      });
    } else if (field === 3) {
      const n = model.normalizer;
      fields(bytes, f.begin, f.end, (k, g) => {
        if (k === 1) n.name = text(g);
        else if (k === 2) n.charsmap = { offset: g.begin, length: g.end - g.begin };
        else if (k === 3) n.addDummyPrefix = g.value === 1;
        else if (k === 4) n.removeExtraWhitespaces = g.value === 1;
        else if (k === 5) n.escapeWhitespaces = g.value === 1;
      });
    }
  });
  return model;
}
