/**
 * Structure-aware mutation of DER for robustness tests: parses the input into a tree (descending into OCTET
 * STRINGs and other primitives whose contents are themselves DER, such as a token's TSTInfo), changes one
 * node, and re-encodes every length on the way up, so the mutation reaches the field parsers behind the
 * framing. Deterministic for a given Prng.
 */
import { concatBytes } from '../../src/core/bytes.ts';
import { childrenOf, decodeDer, type Element, isConstructed, tlv } from '../../src/timestamp/asn1.ts';
import type { Prng } from '../sim/prng.ts';

interface Node {
  tag: number;
  /** Set for constructed nodes and for primitives whose contents decode as one DER element. */
  children?: Node[];
  /** True when `children` is the decoded contents of a primitive (an OCTET STRING holding DER). */
  wrapped?: boolean;
  value: Uint8Array;
}

function toNode(el: Element): Node {
  if (isConstructed(el)) {
    try {
      return { tag: el.tag, value: el.value, children: childrenOf(el, 'node').map(toNode) };
    } catch {
      return { tag: el.tag, value: el.value }; // a constructed tag over contents that do not parse: a leaf
    }
  }
  if (el.value.length > 1) {
    try {
      return {
        tag: el.tag,
        value: el.value,
        children: [toNode(decodeDer(el.value, 'inner'))],
        wrapped: true,
      };
    } catch {
      // Not DER inside: an ordinary primitive.
    }
  }
  return { tag: el.tag, value: el.value };
}

function tryToNode(bytes: Uint8Array): Node | undefined {
  try {
    return toNode(decodeDer(bytes, 'input'));
  } catch {
    return undefined; // an earlier mutation broke the framing: only bytes can change now
  }
}

function encode(n: Node): Uint8Array {
  if (n.children === undefined) return tlv(n.tag, n.value);
  return tlv(n.tag, concatBytes(...n.children.map(encode)));
}

function allNodes(n: Node, out: { node: Node; parent: Node | undefined }[] = [], parent?: Node) {
  out.push({ node: n, parent });
  for (const c of n.children ?? []) allNodes(c, out, n);
  return out;
}

const TAGS = [
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x17, 0x18, 0x1c, 0x1e, 0x30, 0x31, 0x80, 0xa0, 0xa4,
];

function randomBytes(rng: Prng, max: number): Uint8Array {
  return Uint8Array.from({ length: rng.int(0, max) }, () => rng.int(0, 255));
}

/** One random structural or byte-level change to `input`; the input itself is not modified. */
export function mutateDer(input: Uint8Array, rng: Prng): Uint8Array {
  const root = rng.chance(0.15) ? undefined : tryToNode(input);
  if (root === undefined || input.length === 0) {
    if (input.length === 0) return Uint8Array.of(rng.int(0, 255));
    const out = Uint8Array.from(input);
    out[rng.int(0, out.length - 1)]! ^= 1 << rng.int(0, 7);
    return out;
  }
  const nodes = allNodes(root);
  const { node, parent } = rng.pick(nodes);
  switch (rng.int(0, 5)) {
    case 0: // new contents (a leaf)
      node.children = undefined;
      node.value = randomBytes(rng, 12);
      break;
    case 1: // another tag, same contents
      node.tag = rng.pick(TAGS);
      if (node.wrapped || (node.tag & 0x20) === 0) node.children = undefined;
      break;
    case 2: // dropped
      if (parent?.children) parent.children.splice(parent.children.indexOf(node), 1);
      break;
    case 3: // repeated
      if (parent?.children) parent.children.splice(parent.children.indexOf(node), 0, structuredClone(node));
      break;
    case 4: // one bit of a leaf's contents flipped
      if (node.children === undefined && node.value.length > 0) {
        node.value = Uint8Array.from(node.value);
        node.value[rng.int(0, node.value.length - 1)]! ^= 1 << rng.int(0, 7);
      }
      break;
    default: // contents cut short
      node.children = undefined;
      node.value = node.value.subarray(0, rng.int(0, node.value.length));
  }
  return encode(root);
}
