using System;
using KernelGen.Models;

namespace KernelGen.Tests.Models;

/// <summary>
/// An independent float64 Llama forward pass, written from the stories260K README's description (not from
/// LlamaModel): plain loops, fresh arrays, RoPE on adjacent pairs with freq = theta^(-(2i)/head_size).
/// </summary>
internal sealed class ReferenceLlama
{
    private readonly LlamaWeights w;
    private readonly LlamaConfig c;
    private readonly double[][][] keys;   // [layer][pos][kv_dim]
    private readonly double[][][] values; // [layer][pos][kv_dim]

    public ReferenceLlama(LlamaWeights weights)
    {
        w = weights;
        c = weights.Config;
        keys = new double[c.Layers][][];
        values = new double[c.Layers][][];
        for (int l = 0; l < c.Layers; l++)
        {
            keys[l] = new double[c.SeqLen][];
            values[l] = new double[c.SeqLen][];
        }
    }

    public double[] Forward(int token, int pos)
    {
        int d = c.Dim, hs = c.HeadSize, kvDim = c.KvDim;
        var x = new double[d];
        for (int i = 0; i < d; i++)
        {
            x[i] = w.TokenEmbedding[(token * d) + i];
        }

        for (int l = 0; l < c.Layers; l++)
        {
            var xn = RmsNorm(x, w.RmsAttention, l * d);
            var q = MatVec(w.Wq, l, d, d, xn);
            var k = MatVec(w.Wk, l, kvDim, d, xn);
            var v = MatVec(w.Wv, l, kvDim, d, xn);
            Rotate(q, pos);
            Rotate(k, pos);
            keys[l][pos] = k;
            values[l][pos] = v;

            var attended = new double[d];
            for (int h = 0; h < c.Heads; h++)
            {
                int kvHead = h / (c.Heads / c.KvHeads);
                var scores = new double[pos + 1];
                double max = double.NegativeInfinity;
                for (int t = 0; t <= pos; t++)
                {
                    double s = 0;
                    for (int i = 0; i < hs; i++)
                    {
                        s += q[(h * hs) + i] * keys[l][t][(kvHead * hs) + i];
                    }

                    scores[t] = s / Math.Sqrt(hs);
                    max = Math.Max(max, scores[t]);
                }

                double sum = 0;
                for (int t = 0; t <= pos; t++)
                {
                    scores[t] = Math.Exp(scores[t] - max);
                    sum += scores[t];
                }

                for (int t = 0; t <= pos; t++)
                {
                    for (int i = 0; i < hs; i++)
                    {
                        attended[(h * hs) + i] += scores[t] / sum * values[l][t][(kvHead * hs) + i];
                    }
                }
            }

            var o = MatVec(w.Wo, l, d, d, attended);
            for (int i = 0; i < d; i++)
            {
                x[i] += o[i];
            }

            var xf = RmsNorm(x, w.RmsFfn, l * d);
            var gate = MatVec(w.W1, l, c.HiddenDim, d, xf);
            var up = MatVec(w.W3, l, c.HiddenDim, d, xf);
            for (int i = 0; i < gate.Length; i++)
            {
                gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
            }

            var down = MatVec(w.W2, l, d, c.HiddenDim, gate);
            for (int i = 0; i < d; i++)
            {
                x[i] += down[i];
            }
        }

        var final = RmsNorm(x, w.RmsFinal, 0);
        return MatVec(w.ClassifierWeights, 0, c.VocabSize, d, final);
    }

    private double[] RmsNorm(double[] x, float[] gain, int offset)
    {
        double ss = 0;
        foreach (double v in x)
        {
            ss += v * v;
        }

        double scale = 1 / Math.Sqrt((ss / x.Length) + c.NormEpsilon);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = gain[offset + i] * x[i] * scale;
        }

        return y;
    }

    private static double[] MatVec(float[] all, int layer, int rows, int cols, double[] x)
    {
        var y = new double[rows];
        int baseIndex = layer * rows * cols;
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int k = 0; k < cols; k++)
            {
                s += all[baseIndex + (r * cols) + k] * x[k];
            }

            y[r] = s;
        }

        return y;
    }

    private void Rotate(double[] v, int pos)
    {
        int hs = c.HeadSize;
        for (int i = 0; i < v.Length; i += 2)
        {
            int pairInHead = (i % hs) / 2;
            double angle = pos * Math.Pow(c.RopeTheta, -2.0 * pairInHead / hs);
            double a = v[i], b = v[i + 1];
            v[i] = (a * Math.Cos(angle)) - (b * Math.Sin(angle));
            v[i + 1] = (a * Math.Sin(angle)) + (b * Math.Cos(angle));
        }
    }
}
