using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Google.Protobuf;
using KernelGen.Models;
using Onnx;

namespace KernelGen.Formats.Onnx;

/// <summary>
/// Reads a BERT-family encoder's weights from an ONNX graph exported by PyTorch (as sentence-transformers models
/// are). Biases and norms keep their module names, but the MatMul weights are anonymous (e.g. "927"): each is named
/// by walking the graph from its MatMul to the Add that applies a named "*.bias".
/// </summary>
public static class OnnxBert
{
    /// <summary>Loads the weights. The head count is not stored as a tensor, so it is a parameter
    /// (all-MiniLM-L6-v2: 12).</summary>
    /// <exception cref="ModelFormatException">Not a protobuf ONNX model, or a tensor the encoder needs is missing or misshapen.</exception>
    public static BertWeights Load(Stream onnx, int heads, string sourceName = "model.onnx")
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(onnx);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelFormatException(sourceName, "ModelProto", 0, $"not an ONNX protobuf: {e.Message}");
        }

        var graph = model.Graph ?? throw new ModelFormatException(sourceName, "graph", 0, "the model has no graph");
        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (var tensor in graph.Initializer)
        {
            initializers[tensor.Name] = tensor;
        }

        // Name each MatMul weight after the bias its output is added to.
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var input in node.Input)
            {
                if (!consumers.TryGetValue(input, out var list))
                {
                    consumers[input] = list = new List<NodeProto>();
                }

                list.Add(node);
            }
        }

        var named = new Dictionary<string, TensorProto>(initializers, StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            if (node.OpType != "MatMul" || node.Input.Count != 2 || !initializers.TryGetValue(node.Input[1], out var weight)
                || !consumers.TryGetValue(node.Output[0], out var users))
            {
                continue;
            }

            foreach (var add in users)
            {
                if (add.OpType != "Add")
                {
                    continue;
                }

                foreach (var input in add.Input)
                {
                    if (input.EndsWith(".bias", StringComparison.Ordinal) && initializers.ContainsKey(input))
                    {
                        named[input[..^".bias".Length] + ".weight"] = weight;
                    }
                }
            }
        }

        float[] Get(string name, params long[] shape)
        {
            if (!named.TryGetValue(name, out var tensor))
            {
                throw new ModelFormatException(sourceName, name, 0, "the graph has no such tensor (is this a BERT-family encoder exported by PyTorch?)");
            }

            if (tensor.DataType != (int)TensorProto.Types.DataType.Float || tensor.Dims.Count != shape.Length)
            {
                throw new ModelFormatException(sourceName, name, 0, $"expected a float32 tensor of rank {shape.Length}, found type {tensor.DataType} of rank {tensor.Dims.Count}");
            }

            for (int i = 0; i < shape.Length; i++)
            {
                if (tensor.Dims[i] != shape[i])
                {
                    throw new ModelFormatException(sourceName, name, 0, $"shape [{string.Join(", ", tensor.Dims)}] is not [{string.Join(", ", shape)}]");
                }
            }

            long count = 1;
            foreach (long d in shape)
            {
                count *= d;
            }

            var data = new float[count];
            if (tensor.RawData.Length == count * sizeof(float))
            {
                MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).CopyTo(data);
            }
            else if (tensor.FloatData.Count == count)
            {
                tensor.FloatData.CopyTo(data, 0);
            }
            else
            {
                throw new ModelFormatException(sourceName, name, 0, $"holds {tensor.RawData.Length} raw bytes and {tensor.FloatData.Count} floats, not {count} values");
            }

            return data;
        }

        // ONNX MatMul weights are (in, out); KernelGen's linear layers take (out, in).
        float[] Linear(string name, int input, int output) => Transpose(Get(name, input, output), input, output);

        var word = named.TryGetValue("embeddings.word_embeddings.weight", out var w) && w.Dims.Count == 2
            ? w
            : throw new ModelFormatException(sourceName, "embeddings.word_embeddings.weight", 0, "missing: not a BERT-family encoder");
        int vocab = (int)word.Dims[0], hidden = (int)word.Dims[1];
        int positions = named.TryGetValue("embeddings.position_embeddings.weight", out var p) ? (int)p.Dims[0] : 0;
        int layers = 0;
        while (named.ContainsKey($"encoder.layer.{layers}.attention.self.query.bias"))
        {
            layers++;
        }

        int intermediate = named.TryGetValue("encoder.layer.0.intermediate.dense.bias", out var ib) ? (int)ib.Dims[0] : 0;
        if (heads <= 0 || hidden % heads != 0 || layers == 0 || intermediate == 0 || positions == 0)
        {
            throw new ModelFormatException(sourceName, "encoder", 0, $"hidden {hidden}, {layers} layers, intermediate {intermediate}, {positions} positions and {heads} heads do not describe a BERT encoder");
        }

        var config = new BertConfig(hidden, layers, heads, intermediate, vocab, positions);
        var blocks = new BertLayerWeights[layers];
        for (int l = 0; l < layers; l++)
        {
            string a = $"encoder.layer.{l}.attention.";
            blocks[l] = new BertLayerWeights(
                Linear(a + "self.query.weight", hidden, hidden), Get(a + "self.query.bias", hidden),
                Linear(a + "self.key.weight", hidden, hidden), Get(a + "self.key.bias", hidden),
                Linear(a + "self.value.weight", hidden, hidden), Get(a + "self.value.bias", hidden),
                Linear(a + "output.dense.weight", hidden, hidden), Get(a + "output.dense.bias", hidden),
                Get(a + "output.LayerNorm.weight", hidden), Get(a + "output.LayerNorm.bias", hidden),
                Linear($"encoder.layer.{l}.intermediate.dense.weight", hidden, intermediate), Get($"encoder.layer.{l}.intermediate.dense.bias", intermediate),
                Linear($"encoder.layer.{l}.output.dense.weight", intermediate, hidden), Get($"encoder.layer.{l}.output.dense.bias", hidden),
                Get($"encoder.layer.{l}.output.LayerNorm.weight", hidden), Get($"encoder.layer.{l}.output.LayerNorm.bias", hidden));
        }

        return new BertWeights(
            config,
            Get("embeddings.word_embeddings.weight", vocab, hidden),
            Get("embeddings.position_embeddings.weight", positions, hidden),
            Get("embeddings.token_type_embeddings.weight", named.TryGetValue("embeddings.token_type_embeddings.weight", out var types) ? types.Dims[0] : 2, hidden),
            Get("embeddings.LayerNorm.weight", hidden),
            Get("embeddings.LayerNorm.bias", hidden),
            blocks);
    }

    private static float[] Transpose(float[] source, int rows, int cols)
    {
        var result = new float[source.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                result[(c * rows) + r] = source[(r * cols) + c];
            }
        }

        return result;
    }
}
