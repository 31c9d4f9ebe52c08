import * as tf from "@tensorflow/tfjs";

/**
 * Returns the layer class that tfjs-layers registered under `className`, for subclasses that keep
 * its name so that saved models load anywhere. Must run before such a subclass registers itself.
 */
export function stockLayerClass<Layer extends tf.layers.Layer, Args>(
  className: string,
): tf.serialization.SerializableConstructor<Layer> & (new (args?: Args) => Layer) {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry) {
    throw new Error(
      `tfjs-layers registered no ${className} class; reinstall @tensorflow/tfjs-layers 4.22.0.`,
    );
  }
  return entry[0] as unknown as tf.serialization.SerializableConstructor<Layer> &
    (new (
      args?: Args,
    ) => Layer);
}
