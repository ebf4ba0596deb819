/**
 * Reads an ONNX model's `metadata_props` without decoding its graph: only the
 * top-level fields of ModelProto are walked and the graph (field 7, where the
 * weights are) is skipped by its length, so this stays cheap for large models.
 */
import { Reader } from 'protobufjs';
import { ONNX_METADATA_KEYS } from '../registry/onnx/OnnxWriter';
import { onnxMessageType } from '../registry/onnx/onnxProto';

/** ModelProto.metadata_props. */
const METADATA_PROPS_FIELD = 14;

/** The metadata_props of ONNX bytes as a record (empty when the bytes are not a readable model). */
export function readModelMetadata(bytes: Uint8Array): Record<string, string> {
  const entryType = onnxMessageType('StringStringEntryProto');
  const result: Record<string, string> = {};
  try {
    const reader = Reader.create(bytes);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === METADATA_PROPS_FIELD && (tag & 7) === 2) {
        const entry = entryType.decode(reader, reader.uint32()) as unknown as {
          key?: string;
          value?: string;
        };
        if (typeof entry.key === 'string') {
          result[entry.key] = entry.value ?? '';
        }
      } else {
        reader.skipType(tag & 7);
      }
    }
  } catch {
    // The runtime loaded the model; metadata is only a convenience.
  }
  return result;
}

/**
 * The input's column names from `loopline.feature_names`: a JSON array of
 * strings (as OnnxWriter writes it) or a comma-separated list.
 */
export function parseFeatureNames(
  metadata: Record<string, string>,
): string[] | undefined {
  const raw = metadata[ONNX_METADATA_KEYS.featureNames];
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  let names: unknown;
  const text = raw.trim();
  if (text.startsWith('[')) {
    try {
      names = JSON.parse(text);
    } catch {
      return undefined;
    }
  } else {
    names = text.split(',').map(name => name.trim());
  }
  if (
    !Array.isArray(names) ||
    names.length === 0 ||
    names.some(name => typeof name !== 'string' || name === '') ||
    new Set(names).size !== names.length
  ) {
    return undefined;
  }
  return names as string[];
}
