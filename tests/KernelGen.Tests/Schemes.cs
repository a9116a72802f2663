// The whole scheme matrix the runtime tests sweep: bits × {32, 128, per-channel} × {symmetric, asymmetric}.
// Names: B{bits}G{group|PC}{S|A}.
using KernelGen;

namespace KernelGen.Tests;

[QuantScheme(Bits = 2, GroupSize = 32, Symmetric = true)]
public partial struct B2G32S;

[QuantScheme(Bits = 2, GroupSize = 32, Symmetric = false)]
public partial struct B2G32A;

[QuantScheme(Bits = 2, GroupSize = 128, Symmetric = true)]
public partial struct B2G128S;

[QuantScheme(Bits = 2, GroupSize = 128, Symmetric = false)]
public partial struct B2G128A;

[QuantScheme(Bits = 2, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = true)]
public partial struct B2GPCS;

[QuantScheme(Bits = 2, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = false)]
public partial struct B2GPCA;

[QuantScheme(Bits = 3, GroupSize = 32, Symmetric = true)]
public partial struct B3G32S;

[QuantScheme(Bits = 3, GroupSize = 32, Symmetric = false)]
public partial struct B3G32A;

[QuantScheme(Bits = 3, GroupSize = 128, Symmetric = true)]
public partial struct B3G128S;

[QuantScheme(Bits = 3, GroupSize = 128, Symmetric = false)]
public partial struct B3G128A;

[QuantScheme(Bits = 3, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = true)]
public partial struct B3GPCS;

[QuantScheme(Bits = 3, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = false)]
public partial struct B3GPCA;

[QuantScheme(Bits = 4, GroupSize = 32, Symmetric = true)]
public partial struct B4G32S;

[QuantScheme(Bits = 4, GroupSize = 32, Symmetric = false)]
public partial struct B4G32A;

[QuantScheme(Bits = 4, GroupSize = 128, Symmetric = true)]
public partial struct B4G128S;

[QuantScheme(Bits = 4, GroupSize = 128, Symmetric = false)]
public partial struct B4G128A;

[QuantScheme(Bits = 4, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = true)]
public partial struct B4GPCS;

[QuantScheme(Bits = 4, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = false)]
public partial struct B4GPCA;

[QuantScheme(Bits = 5, GroupSize = 32, Symmetric = true)]
public partial struct B5G32S;

[QuantScheme(Bits = 5, GroupSize = 32, Symmetric = false)]
public partial struct B5G32A;

[QuantScheme(Bits = 5, GroupSize = 128, Symmetric = true)]
public partial struct B5G128S;

[QuantScheme(Bits = 5, GroupSize = 128, Symmetric = false)]
public partial struct B5G128A;

[QuantScheme(Bits = 5, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = true)]
public partial struct B5GPCS;

[QuantScheme(Bits = 5, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = false)]
public partial struct B5GPCA;

[QuantScheme(Bits = 6, GroupSize = 32, Symmetric = true)]
public partial struct B6G32S;

[QuantScheme(Bits = 6, GroupSize = 32, Symmetric = false)]
public partial struct B6G32A;

[QuantScheme(Bits = 6, GroupSize = 128, Symmetric = true)]
public partial struct B6G128S;

[QuantScheme(Bits = 6, GroupSize = 128, Symmetric = false)]
public partial struct B6G128A;

[QuantScheme(Bits = 6, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = true)]
public partial struct B6GPCS;

[QuantScheme(Bits = 6, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = false)]
public partial struct B6GPCA;

[QuantScheme(Bits = 8, GroupSize = 32, Symmetric = true)]
public partial struct B8G32S;

[QuantScheme(Bits = 8, GroupSize = 32, Symmetric = false)]
public partial struct B8G32A;

[QuantScheme(Bits = 8, GroupSize = 128, Symmetric = true)]
public partial struct B8G128S;

[QuantScheme(Bits = 8, GroupSize = 128, Symmetric = false)]
public partial struct B8G128A;

[QuantScheme(Bits = 8, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = true)]
public partial struct B8GPCS;

[QuantScheme(Bits = 8, GroupSize = QuantSchemeAttribute.PerChannel, Symmetric = false)]
public partial struct B8GPCA;

/// <summary>Every scheme above, by name, for theories.</summary>
internal static partial class SchemeMatrix
{
    public static readonly System.Type[] Types =
    [
        typeof(B2G32S),
        typeof(B2G32A),
        typeof(B2G128S),
        typeof(B2G128A),
        typeof(B2GPCS),
        typeof(B2GPCA),
        typeof(B3G32S),
        typeof(B3G32A),
        typeof(B3G128S),
        typeof(B3G128A),
        typeof(B3GPCS),
        typeof(B3GPCA),
        typeof(B4G32S),
        typeof(B4G32A),
        typeof(B4G128S),
        typeof(B4G128A),
        typeof(B4GPCS),
        typeof(B4GPCA),
        typeof(B5G32S),
        typeof(B5G32A),
        typeof(B5G128S),
        typeof(B5G128A),
        typeof(B5GPCS),
        typeof(B5GPCA),
        typeof(B6G32S),
        typeof(B6G32A),
        typeof(B6G128S),
        typeof(B6G128A),
        typeof(B6GPCS),
        typeof(B6GPCA),
        typeof(B8G32S),
        typeof(B8G32A),
        typeof(B8G128S),
        typeof(B8G128A),
        typeof(B8GPCS),
        typeof(B8GPCA),
    ];
}
