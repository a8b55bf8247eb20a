/**
 * Layers that move values around without weights: pooling (with
 * `max2avg_pool`), global pooling (→ pooling over the whole map + Flatten),
 * zero padding, cropping, upsampling.
 *
 * @module
 */
import type { LayerAttributesOf, ParsedLayerType } from "../attributes.ts";
import { permuteShape } from "../layout.ts";
import { newAttributes, type ParseContext, type ParseRule, wantedPerm } from "./context.ts";

/** Source layer types parsed into a layer of the same type by {@linkcode parseSpatial}. */
export const SPATIAL_TYPES: ReadonlySet<string> = new Set<ParsedLayerType>([
  "MaxPooling1D",
  "MaxPooling2D",
  "AveragePooling1D",
  "AveragePooling2D",
  "ZeroPadding2D",
  "Cropping2D",
  "UpSampling2D",
]);

type SpatialType =
  | "MaxPooling1D"
  | "MaxPooling2D"
  | "AveragePooling1D"
  | "AveragePooling2D"
  | "ZeroPadding2D"
  | "Cropping2D"
  | "UpSampling2D";

type PoolingType = "MaxPooling1D" | "MaxPooling2D" | "AveragePooling1D" | "AveragePooling2D";

/** The parsed layer type of a (pooling) layer type: `max2avg_pool` turns MaxPooling2D into AveragePooling2D. */
export function poolingType<T extends SpatialType>(ctx: ParseContext, type: T): T | "AveragePooling2D" {
  return type === "MaxPooling2D" && ctx.parser.options.max2avgPool ? "AveragePooling2D" : type;
}

/** Parse pooling, padding, cropping and upsampling layers. */
export const parseSpatial: ParseRule = (ctx, { layer, type, ins: [ref], exclusive }) => {
  const { parser, graph } = ctx;
  const want = wantedPerm(ctx, layer, ref);
  ref = graph.ensurePerm(ref, want);
  const parsedType = poolingType(ctx, type as SpatialType);
  const srcOut = parser.getOutputShape(layer);
  // Max and average pooling take the same constructor arguments.
  const attrs = newAttributes(ctx, layer, parsedType, ref, permuteShape(srcOut, want), srcOut);
  if (parsedType !== type) attrs.absorbed.push("max2avg_pool: MaxPooling2D → AveragePooling2D");
  if (attrs.layerType.includes("Pooling")) {
    parser.parsePooling(layer, attrs as LayerAttributesOf<PoolingType>);
  }
  return graph.push(attrs, srcOut, want, exclusive);
};

/** Global pooling → pooling over the whole map + Flatten. */
export const parseGlobalPooling: ParseRule = (ctx, { layer, type, ins: [ref], exclusive }) => {
  const { parser, graph } = ctx;
  const want = wantedPerm(ctx, layer, ref);
  ref = graph.ensurePerm(ref, want);
  const parsedIn = graph.parsedShape(ref);
  const spatial = parsedIn.slice(0, -1);
  const channels = parsedIn[parsedIn.length - 1];
  const is2d = type.endsWith("2D");
  const kind = type.includes("Average") ? "AveragePooling" : "MaxPooling";
  const poolType = poolingType(ctx, `${kind}${is2d ? "2D" : "1D"}` as PoolingType);
  const name = parser.getLayerName(layer);
  const srcOut = parser.getOutputShape(layer);
  const pool = graph.emit(
    poolType,
    // One window over the whole map: [h, w] (2-d) or [t] (1-d).
    {
      poolSize: spatial as [number, number],
      strides: spatial.map(() => 1) as [number, number],
      padding: "valid",
    },
    [ref],
    [...spatial.map(() => 1), channels],
    {
      absorbed: [`${type}(${name}) → ${poolType} + Flatten`],
      sourceName: name,
      // The Python toolbox names the pooling part after the global pooling layer's (flat) output.
      naming: { shape: srcOut },
    },
  );
  const flat = graph.emit("Flatten", {}, [graph.refFor(pool, [], undefined, true)], [channels], {
    sourceName: name,
  });
  return graph.refFor(flat, srcOut, undefined, exclusive);
};
