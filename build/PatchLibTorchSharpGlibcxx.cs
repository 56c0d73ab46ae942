// Compiled by MSBuild's RoslynCodeTaskFactory (against netstandard2.0); see LibTorchSharpGlibcxxFix.targets for why.
#nullable enable
using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class PatchLibTorchSharpGlibcxx : Task
{
    private const string NeededVersion = "GLIBCXX_3.4.32";
    private const string UnusedSymbol = "_ZSt21ios_base_library_initv";
    private const uint ShtDynsym = 11;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const ushort VerFlagWeak = 0x2;
    private const ushort VerIndexGlobal = 1;

    [Required]
    public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        string? hostLibstdcxx = FindLoadedLibstdcxx();
        if (hostLibstdcxx is not null && ContainsAscii(File.ReadAllBytes(hostLibstdcxx), NeededVersion + "\0"))
        {
            Log.LogMessage(MessageImportance.Low, $"{hostLibstdcxx} provides {NeededVersion}; nothing to patch.");
            return true;
        }

        foreach (ITaskItem item in Libraries)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                string outcome = Patch(path);
                Log.LogMessage(MessageImportance.Normal, $"{path}: {outcome}");
            }
            catch (InvalidDataException e)
            {
                Log.LogError($"{path}: cannot patch the {NeededVersion} need: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    // The libstdc++ that this very process loaded is the one the dynamic loader will offer TorchSharp too.
    private static string? FindLoadedLibstdcxx()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps))
        {
            return null;
        }
        return File.ReadLines(maps)
            .Select(line => line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries).LastOrDefault())
            .FirstOrDefault(p => p is not null && p.StartsWith("/", StringComparison.Ordinal)
                && Path.GetFileName(p).StartsWith("libstdc++.so", StringComparison.Ordinal));
    }

    private static bool ContainsAscii(byte[] haystack, string needle)
    {
        byte[] pattern = Encoding.ASCII.GetBytes(needle);
        for (int start = Array.IndexOf(haystack, pattern[0]); start >= 0 && start <= haystack.Length - pattern.Length;
             start = Array.IndexOf(haystack, pattern[0], start + 1))
        {
            int i = 1;
            while (i < pattern.Length && haystack[start + i] == pattern[i])
            {
                i++;
            }
            if (i == pattern.Length)
            {
                return true;
            }
        }
        return false;
    }

    private static string Patch(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }
        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("not a little-endian 64-bit ELF file");
        }

        ulong sectionTable = U64(elf, 0x28);
        int entrySize = U16(elf, 0x3a);
        int sectionCount = U16(elf, 0x3c);
        Section[] sections = Enumerable.Range(0, sectionCount)
            .Select(i => Section.Read(elf, (int)sectionTable + i * entrySize))
            .ToArray();

        Section verneed = sections.SingleOrDefault(s => s.Type == ShtGnuVerneed)
            ?? throw new InvalidDataException("no .gnu.version_r section");
        Section versym = sections.Single(s => s.Type == ShtGnuVersym);
        Section dynsym = sections.Single(s => s.Type == ShtDynsym);
        Section verneedStrings = sections[verneed.Link];
        Section dynsymStrings = sections[dynsym.Link];

        // Walk the version needs (Elf64_Verneed, then its Elf64_Vernaux chain) to find GLIBCXX_3.4.32.
        int versionIndex = -1;
        bool changed = false;
        int need = (int)verneed.Offset;
        while (true)
        {
            int aux = need + (int)U32(elf, need + 8);
            for (int a = 0; a < U16(elf, need + 2); a++)
            {
                if (CString(elf, verneedStrings.Offset + U32(elf, aux + 8)) == NeededVersion)
                {
                    versionIndex = U16(elf, aux + 6);
                    ushort flags = U16(elf, aux + 4);
                    if ((flags & VerFlagWeak) == 0)
                    {
                        W16(elf, aux + 4, (ushort)(flags | VerFlagWeak));
                        changed = true;
                    }
                }
                aux += (int)U32(elf, aux + 12);
            }
            uint next = U32(elf, need + 12);
            if (next == 0)
            {
                break;
            }
            need += (int)next;
        }
        if (versionIndex < 0)
        {
            return $"needs no {NeededVersion}; left as it is";
        }

        // Make the one symbol bound to that version unversioned; any other symbol on it would really be missing.
        int symbolCount = (int)(dynsym.Size / 24);
        for (int i = 0; i < symbolCount; i++)
        {
            int entry = (int)versym.Offset + 2 * i;
            if ((U16(elf, entry) & 0x7fff) != versionIndex)
            {
                continue;
            }
            string name = CString(elf, dynsymStrings.Offset + U32(elf, (int)dynsym.Offset + 24 * i));
            if (name != UnusedSymbol)
            {
                throw new InvalidDataException($"symbol {name} also needs {NeededVersion}; the weak version is unsafe");
            }
            W16(elf, entry, VerIndexGlobal);
            changed = true;
        }

        if (!changed)
        {
            return "already patched";
        }
        string temporary = path + ".patching";
        File.WriteAllBytes(temporary, elf);
        // A rename, so a process that has the old library mapped keeps its copy intact.
        File.Replace(temporary, path, null);
        return $"marked {NeededVersion} weak and {UnusedSymbol} unversioned";
    }

    private static ushort U16(byte[] b, long o) => BitConverter.ToUInt16(b, (int)o);
    private static uint U32(byte[] b, long o) => BitConverter.ToUInt32(b, (int)o);
    private static ulong U64(byte[] b, long o) => BitConverter.ToUInt64(b, (int)o);

    private static void W16(byte[] b, int o, ushort v)
    {
        b[o] = (byte)v;
        b[o + 1] = (byte)(v >> 8);
    }

    private static string CString(byte[] b, long offset)
    {
        int end = Array.IndexOf(b, (byte)0, (int)offset);
        return Encoding.ASCII.GetString(b, (int)offset, end - (int)offset);
    }

    private sealed class Section
    {
        public uint Type { get; private set; }
        public long Offset { get; private set; }
        public long Size { get; private set; }
        public int Link { get; private set; }

        public static Section Read(byte[] elf, int at) => new Section
        {
            Type = U32(elf, at + 4),
            Offset = (long)U64(elf, at + 24),
            Size = (long)U64(elf, at + 32),
            Link = (int)U32(elf, at + 40),
        };
    }
}
