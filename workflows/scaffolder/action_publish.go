package scaffolder

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/workflows/githost"
)

// publishInput reads the inputs publish actions share.
func publishInput(r *Run) (PublishInput, error) {
	var in PublishInput
	var err error
	if in.RepoURL, err = r.Required("repoUrl"); err != nil {
		return in, err
	}
	for _, f := range []struct {
		dst  *string
		name string
	}{{&in.DefaultBranch, "defaultBranch"}, {&in.Description, "description"}, {&in.SourcePath, "sourcePath"}, {&in.Message, "gitCommitMessage"}} {
		if *f.dst, err = r.String(f.name); err != nil {
			return in, err
		}
	}
	name, _ := r.String("gitAuthorName")
	email, _ := r.String("gitAuthorEmail")
	if name != "" || email != "" {
		if email == "" {
			email = "backlot@localhost"
		}
		in.Author = strings.TrimSpace(name) + " <" + email + ">"
	}
	if in.DefaultBranch == "" {
		in.DefaultBranch = "main"
	}
	return in, nil
}

func publishGit(ctx context.Context, a *Activities, r *Run) error {
	in, err := publishInput(r)
	if err != nil {
		return err
	}
	if a.Local == nil {
		return inputError("publish:git: no local git host is configured")
	}
	out, err := PublishLocal(ctx, a.Local, r.Workspace, in)
	if err := published(r, out, err); err != nil {
		return err
	}
	r.Logf("Published %s at commit %s", out.RemoteURL, short(out.CommitHash))
	return nil
}

// published sets a publish action's outputs, or makes a problem with its
// input a non-retryable error naming the field.
func published(r *Run, out PublishOutput, err error) error {
	var pe *ParameterError
	if errors.As(err, &pe) {
		return inputError("steps.%s.input.%v", r.In.StepID, err)
	}
	if errors.Is(err, githost.ErrRepoNotEmpty) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("steps.%s: %v", r.In.StepID, err), RepoExistsErrorType, nil)
	}
	if err != nil {
		return err
	}
	setPublished(r, out)
	return nil
}

func publishRemote(kind string) ActionFunc {
	return func(ctx context.Context, a *Activities, r *Run) error {
		in, err := publishInput(r)
		if err != nil {
			return err
		}
		var host githost.Host
		switch {
		case kind == "github" && a.GitHub != nil:
			host = a.GitHub
		case kind == "gitlab" && a.GitLab != nil:
			host = a.GitLab
		case a.LocalFallback && a.Local != nil:
			// Backstage's templates run unchanged in dev: their repository
			// goes to the local host, as owner/repo of its repoUrl.
			out, err := Publish(ctx, a.Local, r.Workspace, in)
			if err := published(r, out, err); err != nil {
				return err
			}
			loc, _ := policies.ParseRepoURL(in.RepoURL)
			r.Logf("No %s host is configured (BACKLOT_%s_TOKEN): published %v/%v to the local git host instead, %s at commit %s",
				kind, strings.ToUpper(kind), loc["owner"], loc["repo"], out.RemoteURL, short(out.CommitHash))
			return nil
		default:
			return inputError("publish:%s: no %s host is configured (set BACKLOT_%s_TOKEN)", kind, kind, strings.ToUpper(kind))
		}
		out, err := Publish(ctx, host, r.Workspace, in)
		if err := published(r, out, err); err != nil {
			return err
		}
		r.Logf("Published %s at commit %s", out.RemoteURL, short(out.CommitHash))
		return nil
	}
}

func publishDry(_ context.Context, _ *Activities, r *Run) error {
	in, err := publishInput(r)
	if err != nil {
		return err
	}
	loc, err := policies.ParseRepoURL(in.RepoURL)
	if err != nil {
		return inputError("steps.%s.input.repoUrl: %v", r.In.StepID, err)
	}
	remote := fmt.Sprintf("dry-run://%v/%v/%v.git", loc["host"], loc["owner"], loc["repo"])
	setPublished(r, PublishOutput{RemoteURL: remote, RepoContentsURL: remote + "?ref=" + in.DefaultBranch, CommitHash: strings.Repeat("0", 40)})
	r.Logf("Dry run: would create %v/%v on %v and push the workspace to %s", loc["owner"], loc["repo"], loc["host"], in.DefaultBranch)
	return nil
}

func setPublished(r *Run, out PublishOutput) {
	r.Set("remoteUrl", out.RemoteURL)
	r.Set("repoContentsUrl", out.RepoContentsURL)
	r.Set("commitHash", out.CommitHash)
}
