using System.Buffers.Binary;
using System.Numerics;

namespace BoxBot.Mesh.Credentials;

/// <summary>
/// SHA-512/256 (FIPS 180-4 §5.3.6.2): SHA-512 with its own initial values, cut to 32 bytes. .NET has none; nats-io/jwt
/// names each JWT (<c>jti</c>) by this hash of its standard claims. Used on a few hundred bytes per JWT: clarity over speed.
/// </summary>
internal static class Sha512_256
{
    private static readonly ulong[] InitialValues =
    [
        0x22312194FC2BF72C, 0x9F555FA3C84C64C2, 0x2393B86B6F53B151, 0x963877195940EABD,
        0x96283EE2A88EFFE3, 0xBE5E1E2553863992, 0x2B0199FC2C85B8AA, 0x0EB72DDC81C52CA2,
    ];

    // SHA-512's round constants: the first 64 bits of the fractional parts of the cube roots of the first 80 primes.
    private static readonly ulong[] K = RoundConstants();

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        Span<ulong> h = stackalloc ulong[8];
        InitialValues.CopyTo(h);

        // Padding: 0x80, zeros, then the length in bits as a 128-bit big-endian number (its upper half is zero here).
        var padded = (data.Length + 17 + 127) / 128 * 128;
        var block = new byte[padded];
        data.CopyTo(block);
        block[data.Length] = 0x80;
        BinaryPrimitives.WriteUInt64BigEndian(block.AsSpan(padded - 8), (ulong)data.Length * 8);

        Span<ulong> w = stackalloc ulong[80];
        for (var offset = 0; offset < padded; offset += 128)
        {
            for (var t = 0; t < 16; t++)
            {
                w[t] = BinaryPrimitives.ReadUInt64BigEndian(block.AsSpan(offset + (8 * t)));
            }
            for (var t = 16; t < 80; t++)
            {
                var s0 = R(w[t - 15], 1) ^ R(w[t - 15], 8) ^ (w[t - 15] >> 7);
                var s1 = R(w[t - 2], 19) ^ R(w[t - 2], 61) ^ (w[t - 2] >> 6);
                w[t] = w[t - 16] + s0 + w[t - 7] + s1;
            }

            ulong a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
            for (var t = 0; t < 80; t++)
            {
                var t1 = k + (R(e, 14) ^ R(e, 18) ^ R(e, 41)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
                var t2 = (R(a, 28) ^ R(a, 34) ^ R(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
                k = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
            }

            h[0] += a;
            h[1] += b;
            h[2] += c;
            h[3] += d;
            h[4] += e;
            h[5] += f;
            h[6] += g;
            h[7] += k;
        }

        var result = new byte[32];
        for (var i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(result.AsSpan(8 * i), h[i]);
        }
        return result;
    }

    private static ulong R(ulong x, int n) => BitOperations.RotateRight(x, n);

    private static ulong[] RoundConstants()
    {
        var k = new ulong[80];
        var n = 0;
        for (var p = 2; n < 80; p++)
        {
            var prime = true;
            for (var q = 2; q * q <= p; q++)
            {
                prime &= p % q != 0;
            }
            if (!prime)
            {
                continue;
            }
            // floor(cbrt(p) · 2^64) = floor(cbrt(p · 2^192)), by Newton's method on integers; the low 64 bits are the fraction.
            var target = new BigInteger(p) << 192;
            var x = BigInteger.One << 68;
            while (true)
            {
                var y = ((2 * x) + (target / (x * x))) / 3;
                if (y >= x)
                {
                    break;
                }
                x = y;
            }
            k[n++] = (ulong)(x & ulong.MaxValue);
        }
        return k;
    }
}
